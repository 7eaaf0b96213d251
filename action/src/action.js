// Everything the entry points share, bundled once into dist/action.js.
import s3pod from './core/index.js';
import { githubHost } from './github-host.js';

export const restore = () => s3pod.runRestore(githubHost(), { saveState: true });
export const post = () => s3pod.runPostSave(githubHost());
export const restoreOnly = () => s3pod.runRestore(githubHost(), { saveState: false });
export const saveOnly = () => s3pod.runSaveOnly(githubHost());
export const artifact = () => s3pod.runArtifact(githubHost());
export const assets = () => s3pod.runAssets(githubHost());
