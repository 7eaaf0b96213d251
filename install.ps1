# Installs the s3pod binary from a GitHub release (Windows PowerShell 5.1 or PowerShell 7):
#
#   irm https://github.com/org/s3pod/releases/latest/download/install.ps1 | iex
#   .\install.ps1 [-Version v1.2.3] [-Dir C:\tools]
#
# Picks the release asset for this OS and CPU (s3pod-win-x64.exe, ...), checks it against the
# SHA256SUMS file of the same release and installs it as DIR\s3pod.exe (default
# %LOCALAPPDATA%\Programs\s3pod; elsewhere ~/.local/bin/s3pod). Nothing is installed when the
# checksum does not match.
#
# Environment: S3POD_VERSION, S3POD_INSTALL_DIR, S3POD_REPO (owner/name), S3POD_INSTALL_BASE_URL
# (where releases live, default https://github.com/$S3POD_REPO/releases), S3POD_OS / S3POD_ARCH.
[CmdletBinding()]
param(
    [string]$Version = $env:S3POD_VERSION,
    [string]$Dir = $env:S3POD_INSTALL_DIR,
    [string]$Os = $env:S3POD_OS,
    [string]$Arch = $env:S3POD_ARCH
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Fail([string]$message) {
    [Console]::Error.WriteLine("install.ps1: $message")
    exit 1
}

$repo = if ($env:S3POD_REPO) { $env:S3POD_REPO } else { 'org/s3pod' }
$base = if ($env:S3POD_INSTALL_BASE_URL) { $env:S3POD_INSTALL_BASE_URL } else { "https://github.com/$repo/releases" }
$base = $base.TrimEnd('/')
if ($Version -eq 'latest') { $Version = '' }
if ($Version -and -not $Version.StartsWith('v')) { $Version = "v$Version" }

# Windows PowerShell 5.1 has no $IsWindows: it only runs on Windows.
$onWindows = ($PSVersionTable.PSEdition -eq 'Desktop') -or $IsWindows
if (-not $Os) { $Os = if ($onWindows) { 'windows' } elseif ($IsMacOS) { 'osx' } else { 'linux' } }
if (-not $Arch) { $Arch = [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString() }
switch -Regex ($Os.ToLowerInvariant()) {
    '^(windows|win|win32)$' { $osPart = 'win' }
    '^(linux)$' { $osPart = 'linux' }
    '^(osx|macos|darwin)$' { $osPart = 'osx' }
    default { Fail "no s3pod build for the OS $Os (builds: windows, linux, osx)" }
}
switch -Regex ($Arch.ToLowerInvariant()) {
    '^(x64|amd64|x86_64)$' { $archPart = 'x64' }
    '^(arm64|aarch64)$' { $archPart = 'arm64' }
    default { Fail "no s3pod build for the CPU $Arch (builds: x64, arm64)" }
}
$exe = if ($osPart -eq 'win') { '.exe' } else { '' }
$asset = "s3pod-$osPart-$archPart$exe"
if (-not $Dir) {
    $Dir = if ($onWindows) { Join-Path $env:LOCALAPPDATA 'Programs\s3pod' } else { Join-Path $HOME '.local/bin' }
}

function UrlOf([string]$name) {
    if ($Version) { "$base/download/$Version/$name" } else { "$base/latest/download/$name" }
}

function Fetch([string]$url, [string]$file) {
    try {
        # Invoke-WebRequest honours the system proxy and HTTPS_PROXY (PowerShell 7).
        Invoke-WebRequest -Uri $url -OutFile $file -UseBasicParsing
    } catch {
        Fail "could not download ${url}: $($_.Exception.Message)"
    }
}

$tmp = Join-Path ([System.IO.Path]::GetTempPath()) ("s3pod-install-" + [System.Guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $tmp | Out-Null
try {
    $sumsFile = Join-Path $tmp 'SHA256SUMS'
    Fetch (UrlOf 'SHA256SUMS') $sumsFile
    $expected = $null
    foreach ($line in Get-Content -LiteralPath $sumsFile) {
        $parts = $line -split '\s+', 2
        if ($parts.Count -eq 2 -and $parts[1].TrimStart('*').Trim() -eq $asset) { $expected = $parts[0].ToLowerInvariant(); break }
    }
    if (-not $expected) { Fail "$(UrlOf 'SHA256SUMS') lists no $asset" }

    $download = Join-Path $tmp $asset
    Fetch (UrlOf $asset) $download
    $actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $download).Hash.ToLowerInvariant()
    if ($actual -ne $expected) { Fail "checksum mismatch for ${asset}: SHA256SUMS says $expected, the download is $actual; nothing installed" }

    New-Item -ItemType Directory -Force -Path $Dir | Out-Null
    $target = Join-Path $Dir "s3pod$exe"
    # Beside the target, then one move: a running s3pod is never overwritten in place.
    $staged = Join-Path $Dir ".s3pod-$PID$exe"
    Copy-Item -LiteralPath $download -Destination $staged -Force
    if (-not $onWindows) { & chmod 755 $staged }
    Move-Item -LiteralPath $staged -Destination $target -Force
    $shown = if ($Version) { $Version } else { '(latest)' }
    Write-Output "installed s3pod $shown ($asset, sha256 $expected) to $target"
    $sep = [System.IO.Path]::PathSeparator
    if (-not (($env:PATH -split [regex]::Escape($sep)) -contains $Dir)) {
        Write-Output "note: $Dir is not on PATH; add it to your user PATH"
    }
} finally {
    Remove-Item -LiteralPath $tmp -Recurse -Force -ErrorAction SilentlyContinue
}
