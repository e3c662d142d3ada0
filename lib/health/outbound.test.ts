import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkHealth } from './check';
import { ALLOW_PRIVATE_URLS_ENV, guardedLookup, outboundUrlProblem, repositoryAddressProblem } from './outbound';

const METADATA_URLS = [
  'http://169.254.169.254/latest/meta-data/',
  'http://[fd00:ec2::254]/latest/meta-data/',
  'http://100.100.100.200/latest/meta-data/',
  'http://169.254.170.2/v2/credentials',
  'http://[::ffff:169.254.169.254]/',
  'http://[::ffff:0:169.254.169.254]/',
  'http://[64:ff9b::169.254.169.254]/',
  'http://[2002:a9fe:a9fe::1]/',
  'http://169.254.0.23/',
  'http://168.63.129.16/machine?comp=goalstate',
  'http://metadata.google.internal/computeMetadata/v1/',
  'http://METADATA.google.internal./computeMetadata/v1/',
];

const lookupError = (host: string) => new Promise<Error | null>((resolve) => guardedLookup(host, { all: true }, (e) => resolve(e)));

describe('outbound URLs without the flag', () => {
  it('refuses loopback however an IPv6 address carries it, and lets ordinary IPv6 through', async () => {
    const saved = process.env[ALLOW_PRIVATE_URLS_ENV];
    delete process.env[ALLOW_PRIVATE_URLS_ENV];
    try {
      for (const url of ['http://[::7f00:1]/', 'http://[::127.0.0.1]/', 'http://[::ffff:0:7f00:1]/', 'http://[64:ff9b::7f00:1]/', 'http://[2002:7f00:1::]/', 'http://[::ffff:127.0.0.1]/', 'http://[::1]/']) {
        expect(await outboundUrlProblem(url, 'webhook URL'), url).toMatch(/loopback, link-local or metadata/);
      }
      expect(await outboundUrlProblem('http://[2001:db8::1]/', 'webhook URL')).toBeNull();
      expect(await outboundUrlProblem('http://[64:ff9b::808:808]/', 'webhook URL')).toBeNull();
    } finally {
      if (saved !== undefined) process.env[ALLOW_PRIVATE_URLS_ENV] = saved;
    }
  });
});

describe('outbound URLs with CUTOVER_ALLOW_PRIVATE_HEALTH_URLS=1', () => {
  let before: string | undefined;
  beforeEach(() => {
    before = process.env[ALLOW_PRIVATE_URLS_ENV];
    process.env[ALLOW_PRIVATE_URLS_ENV] = '1';
  });
  afterEach(() => {
    if (before === undefined) delete process.env[ALLOW_PRIVATE_URLS_ENV];
    else process.env[ALLOW_PRIVATE_URLS_ENV] = before;
  });

  it('still refuses the cloud metadata service, however it is written, saying the flag does not help', async () => {
    for (const url of METADATA_URLS) {
      const problem = await outboundUrlProblem(url, 'webhook URL');
      expect(problem, url).toMatch(/^The webhook URL points at .*metadata.*: Cutover never sends requests there, not even with CUTOVER_ALLOW_PRIVATE_HEALTH_URLS=1/);
    }
    expect(await outboundUrlProblem('http://127.0.0.1:4000/hook', 'webhook URL')).toBeNull();
    expect(await outboundUrlProblem('http://localhost:4000/hook', 'webhook URL')).toBeNull();
    expect(await outboundUrlProblem('http://169.254.1.1/', 'webhook URL')).toBeNull();
  });

  it('refuses metadata addresses at connect time too, and lets loopback through', async () => {
    expect((await lookupError('169.254.169.254'))?.message).toMatch(/cloud metadata address/);
    expect((await lookupError('100.100.100.200'))?.message).toMatch(/cloud metadata address/);
    expect(await lookupError('127.0.0.1')).toBeNull();
  });

  it('a health check never reaches the metadata service', async () => {
    const result = await checkHealth('http://169.254.169.254/latest/meta-data/');
    expect(result).toMatchObject({ ok: false, status: null });
    expect(result.error).toMatch(/cloud metadata address/);
  });

  it('a repository with a credential is refused at the metadata service, and may name its user', async () => {
    expect(await repositoryAddressProblem('http://169.254.169.254/repo.git', true)).toMatch(/metadata/);
    expect(await repositoryAddressProblem('https://deploy@127.0.0.1:8443/repo.git', true)).toBeNull();
  });
});

describe('outbound URLs with credentials in them', () => {
  it('are refused for webhooks and health checks, with what to do', async () => {
    for (const url of ['https://user:secret@hooks.example.com/cutover', 'https://token@hooks.example.com/cutover', 'https://:secret@hooks.example.com/']) {
      expect(await outboundUrlProblem(url, 'webhook URL'), url).toBe(
        'The webhook URL has a user name or password in it (user:password@host): Cutover does not send credentials in a URL. Remove them.',
      );
    }
    const result = await checkHealth('https://user:secret@app.example.com/health');
    expect(result).toMatchObject({ ok: false, status: null });
    expect(result.error).toContain('has a user name or password in it');
    expect(await outboundUrlProblem('https://hooks.example.com/cutover?token=abc', 'webhook URL')).toBeNull();
  });
});
