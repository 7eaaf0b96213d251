// Runner-level scenarios: the bundled dist/ entry points, run as the runner runs them, against the
// real s3pod binary and a real S3 server (skipped with a reason when the harness gives neither),
// and against the stub binary for the wrapper's own logic.
import { describe, test as nodeTest, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { createJob, runStep, writeFiles, readTree } from './harness.mjs';
import { realBackend, stubBackend } from './backends.mjs';

const require = createRequire(import.meta.url);
const { dockerAvailable } = require('./contract.cjs');
const docker = (...args) => spawnSync('docker', args, { encoding: 'utf8', timeout: 120000 });
/** The docker client's settings, which the runner's environment would carry to the binary. */
const dockerEnv = () => Object.fromEntries(['DOCKER_HOST', 'DOCKER_API_VERSION', 'DOCKER_CONFIG'].filter((n) => process.env[n]).map((n) => [n, process.env[n]]));

const PR_EVENT = (number, headRepo = 'octo/app', fork = false) => ({
  number,
  pull_request: {
    number,
    head: { ref: 'feature', repo: { full_name: headRepo, fork } },
    base: { ref: 'main', repo: { full_name: 'octo/app' } },
  },
});
const pushJob = (ref = 'refs/heads/main') => createJob({ eventName: 'push', ref });
const prJob = (number = 7, headRepo, fork) => createJob({
  eventName: 'pull_request', ref: `refs/pull/${number}/merge`, baseRef: 'main', event: PR_EVENT(number, headRepo, fork),
});

for (const backend of [realBackend(), stubBackend()]) {
  describe(`action scenarios (${backend.name})`, () => {
    // Each test skips with the reason when its binary or S3 server is missing (counted as skipped).
    const test = (name, fn) => nodeTest(name, { skip: backend.skip }, fn);
    let prefix;
    let base;
    const run = (job, entry, inputs = {}, opts = {}) => runStep(job, entry, { ...base, ...inputs }, {
      ...opts,
      env: { ...backend.env(), ...(opts.env || {}) },
    });
    const files = { 'deps/a.txt': 'alpha\n', 'deps/sub/b.bin': 'bravo'.repeat(1000) };
    const populate = (job) => writeFiles(job.workspace, files);

    before(async () => {
      if (backend.skip) return;
      prefix = await backend.newPrefix();
      base = backend.inputs(prefix);
    });

    /** One job that misses, builds and saves under `key`: returns the main step's result. */
    async function seed(job, key, inputs = {}) {
      const main = await run(job, 'main', { key, path: 'deps', ...inputs });
      assert.equal(main.code, 0, main.log);
      populate(job);
      const post = await run(job, 'post', { key, path: 'deps', ...inputs });
      assert.equal(post.code, 0, post.log);
      assert.match(post.log, /Cache saved with key/);
      return main;
    }

    test('miss, post saves, next job hits exactly and its post uploads nothing', async () => {
      const key = `deps-${Date.now()}`;
      const first = pushJob();
      const main1 = await run(first, 'main', { key, path: 'deps' });
      assert.equal(main1.code, 0, main1.log);
      assert.deepEqual(main1.errors, []);
      assert.equal(main1.outputs['cache-hit'], 'false');
      assert.equal(main1.outputs['primary-key'], key);
      assert.equal(main1.outputs['matched-key'], '');
      assert.match(main1.log, /Cache not found for input keys/);
      assert.match(main1.summary, /miss/);
      populate(first);
      const post1 = await run(first, 'post', { key, path: 'deps' });
      assert.equal(post1.code, 0, post1.log);
      assert.match(post1.log, new RegExp(`Cache saved with key ${key}`));
      assert.match(post1.summary, /saved/);
      const objectsAfterSave = await backend.objects(prefix);
      assert.ok(objectsAfterSave.length > 0, 'the save wrote objects');

      const second = pushJob();
      const main2 = await run(second, 'main', { key, path: 'deps' });
      assert.equal(main2.code, 0, main2.log);
      assert.equal(main2.outputs['cache-hit'], 'true');
      assert.equal(main2.outputs['matched-key'], key);
      assert.ok(Number(main2.outputs['cache-size']) > 0, `cache-size ${main2.outputs['cache-size']}`);
      assert.deepEqual(readTree(path.join(second.workspace, 'deps')), { 'a.txt': files['deps/a.txt'], 'sub/b.bin': files['deps/sub/b.bin'] });
      assert.match(main2.summary, /exact hit/);
      // (a restore may record last use next to the cache; only the post step must write nothing)
      const objectsBeforePost = await backend.objects(prefix);
      const post2 = await run(second, 'post', { key, path: 'deps' });
      assert.equal(post2.code, 0, post2.log);
      assert.match(post2.log, /Not saving: cache hit occurred on the primary key/);
      assert.doesNotMatch(post2.log, /Saving cache/);
      assert.deepEqual((await backend.objects(prefix)).sort(), objectsBeforePost.sort(), 'post uploaded nothing');
    });

    test('restore-key hit restores the newest prefix match, and post saves the new key', async () => {
      await seed(pushJob(), 'npm-linux-old');
      const job = pushJob();
      const main = await run(job, 'main', { key: 'npm-linux-new', path: 'deps', 'restore-keys': 'npm-linux-\nnpm-' });
      assert.equal(main.code, 0, main.log);
      assert.equal(main.outputs['cache-hit'], 'false');
      assert.equal(main.outputs['matched-key'], 'npm-linux-old');
      assert.equal(readTree(path.join(job.workspace, 'deps'))['a.txt'], files['deps/a.txt']);
      assert.match(main.summary, /restore-key hit/);
      const post = await run(job, 'post', { key: 'npm-linux-new', path: 'deps' });
      assert.match(post.log, /Cache saved with key npm-linux-new/);
    });

    test('a pull request reads the base branch cache and cannot write it', async () => {
      await seed(pushJob('refs/heads/main'), 'pr-base');
      const pr = prJob(7);
      const hit = await run(pr, 'main', { key: 'pr-base', path: 'deps' });
      assert.equal(hit.outputs['cache-hit'], 'true', hit.log);
      assert.match(hit.log, /scope refs\/heads\/main/);

      // A miss in the PR saves into refs/pull/7/merge only.
      const pr2 = prJob(7);
      const miss = await run(pr2, 'main', { key: 'pr-only', path: 'deps' });
      assert.equal(miss.outputs['cache-hit'], 'false');
      populate(pr2);
      const post = await run(pr2, 'post', { key: 'pr-only', path: 'deps' });
      assert.match(post.log, /to scope refs\/pull\/7\/merge/);
      const onMain = await run(pushJob('refs/heads/main'), 'main', { key: 'pr-only', path: 'deps' });
      assert.equal(onMain.outputs['cache-hit'], 'false', 'the default branch must not see the PR cache');
      assert.equal(onMain.outputs['matched-key'], '');
      const otherPr = await run(prJob(8), 'main', { key: 'pr-only', path: 'deps' });
      assert.equal(otherPr.outputs['cache-hit'], 'false', 'another PR must not see it either');
      const rerun = await run(prJob(7), 'main', { key: 'pr-only', path: 'deps' });
      assert.equal(rerun.outputs['cache-hit'], 'true', 'a re-run of the same PR sees its own cache');
    });

    test('read-only (true, fork PRs and pull_request_target) restores but never saves', async () => {
      for (const [name, job, inputs] of [
        ['read-only: true', pushJob('refs/heads/ro'), { 'read-only': 'true' }],
        ['fork PR', prJob(9, 'evil/app', true), {}],
        ['pull_request_target', createJob({ eventName: 'pull_request_target', ref: 'refs/heads/main', baseRef: 'main', event: PR_EVENT(10, 'evil/app', true) }), {}],
      ]) {
        const key = `ro-${name.replace(/\W+/g, '-')}`;
        const main = await run(job, 'main', { key, path: 'deps', ...inputs });
        assert.equal(main.code, 0, main.log);
        assert.equal(main.outputs['cache-hit'], 'false');
        populate(job);
        const post = await run(job, 'post', { key, path: 'deps', ...inputs });
        assert.equal(post.code, 0, post.log);
        assert.match(post.log, /Not saving: read-only/, name);
        const check = await run(job, 'main', { key, path: 'deps', ...inputs });
        assert.equal(check.outputs['cache-hit'], 'false', `${name} must not have written`);
      }
      // The save/ sub-action refuses as well.
      const job = prJob(11, 'evil/app', true);
      populate(job);
      const saveOnly = await run(job, 'save-only', { key: 'ro-save-only', path: 'deps' });
      assert.equal(saveOnly.code, 0, saveOnly.log);
      assert.match(saveOnly.log, /Not saving: read-only/);
    });

    test('the key is exact: a longer key that starts with it is not restored; a restore key is a prefix', async () => {
      await seed(pushJob(), 'exact-key-longer');
      const exact = await run(pushJob(), 'main', { key: 'exact-key', path: 'deps' });
      assert.equal(exact.code, 0, exact.log);
      assert.equal(exact.outputs['matched-key'], '', 'the primary key is not a prefix');
      const prefix = await run(pushJob(), 'main', { key: 'exact-key', path: 'deps', 'restore-keys': 'exact-key' });
      assert.equal(prefix.outputs['matched-key'], 'exact-key-longer', prefix.log);
      assert.equal(prefix.outputs['cache-hit'], 'false');
    });

    test('a miss logs why: the binary\'s summary, then each reason, one line each', async () => {
      await seed(pushJob(), 'why-key');
      const job = pushJob();
      const main = await run(job, 'main', { key: 'why-key', path: 'elsewhere', 'restore-keys': 'why-nothing-' });
      assert.equal(main.code, 0, main.log);
      assert.equal(main.outputs['matched-key'], '');
      const lines = main.stdout.split('\n');
      const at = lines.indexOf('Cache not found for input keys: why-key, why-nothing-');
      assert.ok(at >= 0, main.log);
      assert.match(lines[at + 1], /^Why: \S.*/, `the summary follows the miss line:\n${main.log}`);
      const reasons = lines.slice(at + 2).filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('  - ')));
      assert.ok(reasons.length >= 1, `at least one reason line:\n${main.log}`);
      assert.ok(reasons.every((r) => r.length > 4));
      assert.match(main.summary, /\| Why \| \S/, 'the job summary says why too');
    });

    test('docker image: miss, post saves, the next job loads it (exact, then by restore key in another scope); cache-size is the stored size', async (t) => {
      const skipDocker = backend.real && dockerAvailable();
      if (skipDocker) {
        t.skip(skipDocker);
        return;
      }
      const image = `s3pod-action-test/${path.basename(prefix)}:1`;
      const env = backend.real ? dockerEnv() : {};
      const dockerInputs = { key: 'img-{hash}', 'hash-files': 'Dockerfile', 'docker-image': image };
      if (backend.real) assert.equal(docker('tag', process.env.S3POD_TEST_DOCKER_IMAGE, image).status, 0);
      try {
        const first = pushJob();
        writeFiles(first.workspace, { Dockerfile: 'FROM scratch\n' });
        const miss = await run(first, 'main', dockerInputs, { env });
        assert.equal(miss.code, 0, miss.log);
        assert.equal(miss.outputs['cache-hit'], 'false');
        assert.equal(miss.outputs['cache-size'], '');
        const key = miss.outputs['primary-key'];
        assert.match(key, /^img-[0-9a-f]{8,}$/);
        const post = await run(first, 'post', dockerInputs, { env });
        assert.equal(post.code, 0, post.log);
        assert.match(post.log, new RegExp(`Cache saved with key ${key}`));
        if (backend.real) assert.equal(docker('rmi', image).status, 0);

        const second = pushJob();
        writeFiles(second.workspace, { Dockerfile: 'FROM scratch\n' });
        const hit = await run(second, 'main', dockerInputs, { env });
        assert.equal(hit.code, 0, hit.log);
        assert.equal(hit.outputs['cache-hit'], 'true', hit.log);
        assert.equal(hit.outputs['matched-key'], key);
        assert.match(hit.outputs['cache-size'], /^[1-9]\d*$/, `cache-size is the image's stored size, not "${hit.outputs['cache-size']}"`);
        if (backend.real) assert.equal(docker('image', 'inspect', image).status, 0, 'the image was loaded');
        else assert.ok(backend.invocations().some((c) => c.args.slice(0, 5).join(' ') === `restore --key ${key} --docker-image ${image}`));
        const again = await run(second, 'post', dockerInputs, { env });
        assert.match(again.log, /Not saving: cache hit occurred/);

        const lookup = await run(pushJob(), 'main', { ...dockerInputs, key, 'hash-files': '', 'lookup-only': 'true' }, { env });
        assert.equal(lookup.outputs['cache-hit'], 'true', lookup.log);
        assert.equal(lookup.outputs['cache-size'], hit.outputs['cache-size'], 'lookup-only reports the same size');

        // Another key: the restore key finds the image saved on the push branch, from a pull request.
        if (backend.real) assert.equal(docker('rmi', image).status, 0);
        const pr = await run(prJob(), 'main', { ...dockerInputs, key: 'img-next', 'hash-files': '', 'restore-keys': 'img-' }, { env });
        assert.equal(pr.code, 0, pr.log);
        assert.equal(pr.outputs['cache-hit'], 'false', pr.log);
        assert.equal(pr.outputs['matched-key'], key, pr.log);
        if (backend.real) assert.equal(docker('image', 'inspect', image).status, 0, 'the image was loaded by restore key');
      } finally {
        if (backend.real) docker('rmi', image);
      }
    });

    test('lookup-only reports a hit without restoring anything', async () => {
      await seed(pushJob(), 'lookup-key');
      const job = pushJob();
      const main = await run(job, 'main', { key: 'lookup-key', path: 'deps', 'lookup-only': 'true' });
      assert.equal(main.code, 0, main.log);
      assert.equal(main.outputs['cache-hit'], 'true');
      assert.equal(main.outputs['matched-key'], 'lookup-key');
      assert.equal(fs.existsSync(path.join(job.workspace, 'deps')), false, 'nothing restored');
      const miss = await run(pushJob(), 'main', { key: 'lookup-absent', path: 'deps', 'lookup-only': 'true' });
      assert.equal(miss.outputs['cache-hit'], 'false');
    });

    test('fail-on-cache-miss fails the step with ::error::', async () => {
      const main = await run(pushJob(), 'main', { key: 'never-saved', path: 'deps', 'fail-on-cache-miss': 'true' });
      assert.equal(main.code, 1, main.log);
      assert.equal(main.errors.length, 1, main.log);
      assert.match(main.errors[0], /fail-on-cache-miss.*never-saved/);
      assert.equal(main.outputs['cache-hit'], 'false');
    });

    test('save: always saves after a failed job; on-miss does not', async () => {
      const onMiss = pushJob();
      await run(onMiss, 'main', { key: 'failed-on-miss', path: 'deps' });
      populate(onMiss);
      const skipped = await run(onMiss, 'post', { key: 'failed-on-miss', path: 'deps' }, { jobStatus: 'failure' });
      assert.equal(skipped.code, 0, skipped.log);
      assert.match(skipped.log, /Not saving: the job status is failure/);

      const always = pushJob();
      await run(always, 'main', { key: 'failed-always', path: 'deps', save: 'always' });
      populate(always);
      const saved = await run(always, 'post', { key: 'failed-always', path: 'deps', save: 'always' }, { jobStatus: 'failure' });
      assert.equal(saved.code, 0, saved.log);
      assert.match(saved.log, /Cache saved with key failed-always/);
      const next = await run(pushJob(), 'main', { key: 'failed-always', path: 'deps' });
      assert.equal(next.outputs['cache-hit'], 'true');

      const never = pushJob();
      await run(never, 'main', { key: 'never-mode', path: 'deps', save: 'never' });
      populate(never);
      const none = await run(never, 'post', { key: 'never-mode', path: 'deps', save: 'never' });
      assert.match(none.log, /Not saving: save is never/);
    });

    test('bad or missing inputs give one ::error:: naming the input, no stack trace', async () => {
      const cases = [
        [{ key: '', path: 'deps' }, /key/],
        [{ key: 'k', path: '' }, /path/],
        [{ key: 'k', path: 'deps', scope: 'branch' }, /"scope" must be one of ref, repo, none/],
        [{ key: 'k', path: 'deps', 'read-only': 'maybe' }, /"read-only"/],
        [{ key: 'k', path: 'deps', save: 'sometimes' }, /"save"/],
        [{ key: 'k', path: 'deps', 'lookup-only': 'yes' }, /"lookup-only" must be true or false/],
        [{ key: 'k', path: 'deps', 'compression-level': 'fast' }, /"compression-level"/],
        [{ key: 'k', path: 'deps', endpoint: 'not a url' }, /"endpoint" is not a URL/],
        [{ key: 'k', path: 'deps', 'secret-access-key': '' }, /"secret-access-key" is required/],
        [{ key: 'k-{hash}', path: 'deps' }, /hash-files/],
        [{ key: 'k', path: 'deps', binary: '/nonexistent/s3pod' }, /Input "binary": \/nonexistent\/s3pod does not exist/],
      ];
      for (const [inputs, pattern] of cases) {
        const main = await run(pushJob(), 'main', inputs);
        assert.equal(main.code, 1, `${JSON.stringify(inputs)}\n${main.log}`);
        assert.equal(main.errors.length, 1, main.log);
        assert.match(main.errors[0], pattern);
        assert.doesNotMatch(main.log, /\n\s+at .+:\d+:\d+/, 'no stack trace');
        assert.equal(main.outputs['cache-hit'], 'false', 'cache-hit is never empty');
      }
    });

    test('an unreachable endpoint is one warning on restore and one ::error:: with fail-on-error', async () => {
      const endpoint = 'http://127.0.0.1:9'; // discard port: connection refused
      const env = backend.real ? {} : { S3POD_STUB_FAIL: 'restore' };
      const warn = await run(pushJob(), 'main', { key: 'k', path: 'deps', endpoint }, { env });
      assert.equal(warn.code, 0, warn.log);
      assert.deepEqual(warn.errors, []);
      assert.equal(warn.warnings.length, 1, warn.log);
      assert.match(warn.warnings[0], /Failed to restore cache/);
      assert.equal(warn.outputs['cache-hit'], 'false');
      const fail = await run(pushJob(), 'main', { key: 'k', path: 'deps', endpoint, 'fail-on-error': 'true' }, { env });
      assert.equal(fail.code, 1, fail.log);
      assert.equal(fail.errors.length, 1, fail.log);
      assert.doesNotMatch(fail.log, /\n\s+at .+:\d+:\d+/);
    });

    test('key templates resolve through s3pod key with hash-files', async () => {
      const job = pushJob();
      writeFiles(job.workspace, { 'go.sum': 'module hashes\n' });
      const main = await run(job, 'main', { key: 'go-mod-{hash}', 'hash-files': 'go.sum', path: 'deps' });
      assert.equal(main.code, 0, main.log);
      const key = main.outputs['primary-key'];
      assert.match(key, /^go-mod-[0-9a-f]{8,}$/);
      populate(job);
      const post = await run(job, 'post', { key: 'go-mod-{hash}', 'hash-files': 'go.sum', path: 'deps' });
      assert.match(post.log, new RegExp(`Cache saved with key ${key}`));
      // Without {hash}, s3pod adds -<hash> itself.
      const plain = await run(pushJob(), 'main', { key: 'go-mod', 'hash-files': 'go.sum', path: 'deps' }, { cwd: job.workspace });
      assert.equal(plain.code, 0, plain.log);
      assert.equal(plain.outputs['primary-key'], key);
      // A glob that matches nothing is an error naming hash-files.
      const none = await run(pushJob(), 'main', { key: 'go-mod-{hash}', 'hash-files': 'no-such-file.sum', path: 'deps' });
      assert.equal(none.code, 1, none.log);
      assert.equal(none.errors.length, 1, none.log);
      assert.match(none.errors[0], /hash-files/);
    });

    test('secrets are masked first and never printed or put on the command line', async () => {
      const job = pushJob();
      const main = await run(job, 'main', { key: 'secret-check', path: 'deps' });
      populate(job);
      const post = await run(job, 'post', { key: 'secret-check', path: 'deps' });
      for (const step of [main, post]) {
        const firstLine = step.stdout.split('\n')[0];
        assert.match(firstLine, /^::add-mask::/, 'masking comes before anything else');
        for (const secret of backend.secrets) {
          assert.ok(step.masks.some((l) => l === `::add-mask::${secret}`), 'secret registered with the masker');
          const visible = step.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n') + step.stderr;
          assert.ok(!visible.includes(secret), 'secret printed');
          assert.ok(!step.summary.includes(secret) && !JSON.stringify(step.outputs).includes(secret));
          assert.ok(!JSON.stringify(step.state).includes(secret), 'secret saved in state');
        }
      }
      if (!backend.real) {
        const calls = backend.invocations().filter((c) => c.args[0] === 'restore' || c.args[0] === 'save');
        assert.ok(calls.length >= 2);
        for (const call of calls) {
          for (const secret of backend.secrets) assert.ok(!call.args.join(' ').includes(secret), 'secret on the command line');
          assert.equal(call.secret, backend.secrets[0], 'secret passed via S3POD_S3_SECRET');
          assert.equal(call.keyId, backend.secrets[1], 'key id passed via S3POD_S3_KEY_ID');
          assert.deepEqual(call.inputEnv, [], 'INPUT_* variables are not passed to the binary');
        }
      }
    });

    test('restore/ and save/ sub-actions round-trip without state', async () => {
      const job = pushJob('refs/heads/split');
      populate(job);
      const saved = await run(job, 'save-only', { key: 'split-key', path: 'deps', 'compression-level': '19' });
      assert.equal(saved.code, 0, saved.log);
      assert.match(saved.log, /Cache saved with key split-key/);
      const again = await run(job, 'save-only', { key: 'split-key', path: 'deps' });
      assert.match(again.log, /already exists/);
      const fresh = pushJob('refs/heads/split');
      const restored = await run(fresh, 'restore-only', { key: 'split-key', path: 'deps' });
      assert.equal(restored.code, 0, restored.log);
      assert.equal(restored.outputs['cache-hit'], 'true');
      assert.deepEqual(restored.state, {}, 'restore/ saves no state');
      assert.equal(readTree(path.join(fresh.workspace, 'deps'))['a.txt'], files['deps/a.txt']);
    });
  });
}
