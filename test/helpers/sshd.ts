/**
 * A private Git remote over SSH on loopback, for the automated-build tests: Debian's OpenSSH
 * `sshd` run by the test (`-D -e -f CONFIG`) with its own config, host key and authorized keys in
 * a directory of the test, touching no system configuration. It lets in one user key pair (made
 * here with ssh-keygen), as the user the tests run as, and runs only git-shell for it
 * (git-upload-pack and friends) on the repositories under `root`.
 *
 * Run as root, sshd needs its privilege separation directory (/run/sshd, Debian's compiled-in
 * path; the openssh-server service makes it at boot): it is made here if missing, empty, as the
 * service would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, runOk, which } from './process.ts';

export interface KeyPair {
  /** The OpenSSH private key, as ssh-keygen wrote it. */
  privateKey: string;
  publicKey: string;
}

export interface SshGitServer {
  port: number;
  /** The user to log in as (the one the tests run as). */
  user: string;
  /** The key sshd lets in. */
  key: KeyPair;
  /** The host key's public half (what a client would pin). */
  hostKey: string;
  /** ssh://USER@127.0.0.1:PORT/ROOT/NAME */
  url(name: string): string;
  /** sshd's own log (stderr), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** A fresh ed25519 key pair with no passphrase, made in `dir` as `name` and `name.pub`. */
export async function makeKeyPair(dir: string, name: string): Promise<KeyPair> {
  const file = path.join(dir, name);
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `berth-test-${name}`, '-f', file]);
  return { privateKey: await fs.readFile(file, 'utf8'), publicKey: (await fs.readFile(`${file}.pub`, 'utf8')).trim() };
}

/** Start sshd on 127.0.0.1 serving the Git repositories under `root`; `dir` holds its files. */
export async function startSshGit(root: string, dir: string): Promise<SshGitServer> {
  const sshd = which('sshd');
  if (sshd === undefined) throw new Error('sshd is not installed (Debian: openssh-server)');
  const gitShell = which('git-shell') ?? '/usr/bin/git-shell';
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const user = os.userInfo().username;
  if (process.getuid?.() === 0) await fs.mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_ed25519')]);
  const key = await makeKeyPair(dir, 'user');
  // restrict: no pty, forwarding or agent; the key may only run git-shell (upload-pack, receive-pack).
  await fs.writeFile(path.join(dir, 'authorized_keys'), `restrict,command="${gitShell} -c \\"$SSH_ORIGINAL_COMMAND\\"" ${key.publicKey}\n`, { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  await fs.writeFile(
    config,
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${path.join(dir, 'host_ed25519')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PidFile none',
      `AllowUsers ${user}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      // the test's directories are not root's alone, as StrictModes wants
      'StrictModes no',
      'PrintMotd no',
      'PrintLastLog no',
      // git asks for protocol version 2 through this variable
      'AcceptEnv GIT_PROTOCOL',
      'LogLevel INFO',
      '',
    ].join('\n'),
  );
  let stderr = '';
  const child: ChildProcess = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-64 * 1024);
      if (/Server listening on 127\.0\.0\.1 port/.test(stderr)) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`sshd exited (${code ?? signal}) before listening:\n${stderr}`)));
    child.once('error', reject);
  });
  return {
    port,
    user,
    key,
    hostKey: (await fs.readFile(path.join(dir, 'host_ed25519.pub'), 'utf8')).trim(),
    url: (name) => `ssh://${user}@127.0.0.1:${port}${path.join(root, name)}`,
    log: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
