import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cleanupTempDirs, killAllRoles, startRole } from '../support/roles.js';
import { ApiClient, closeKvClients, startCloud, type Cloud } from '../api/cloud.js';
import { CLIENT_TIMEOUT_MS } from './mail-clients.js';

const PASSWORD = 'correct horse';
/** Parallel wrong guesses in one burst: many times the per-user limit of 5. */
const GUESSES = 60;
const PER_USER_MAX = 5;

/**
 * Opens a raw connection, waits for the greeting, then sends each line after the previous
 * reply, and returns the reply to the last line.
 */
function lastReply(port: number, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let sent = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`transcript incomplete: ${text}`));
    }, CLIENT_TIMEOUT_MS);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      // A reply is complete at a line with a space after its code (SMTP) or any +OK/-ERR line.
      const done = /(^|\r\n)(\d{3} |\+OK|-ERR)[^\r\n]*\r\n$/.test(text);
      if (!done) return;
      if (sent === lines.length) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text.split('\r\n').filter((l) => l !== '').at(-1)!);
        return;
      }
      text = '';
      socket.write(`${lines[sent++]}\r\n`);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Logs in over a raw IMAP connection and returns the tagged reply to LOGIN. */
function imapLogin(port: number, user: string, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`transcript incomplete: ${text}`));
    }, CLIENT_TIMEOUT_MS);
    socket.on('data', (d: Buffer) => {
      const greeted = text.includes('\r\n');
      text += d.toString('latin1');
      if (!greeted && text.includes('\r\n')) socket.write(`a LOGIN ${user} "${password}"\r\n`);
      const reply = /(^|\r\n)(a (OK|NO|BAD) [^\r]*)\r\n/.exec(text);
      if (reply === null) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(reply[2]!);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function plain(user: string, password: string): string {
  return Buffer.from(`\0${user}\0${password}`).toString('base64');
}

describe('mail log-ins: parallel wrong passwords cannot outrun the throttle', function () {
  this.timeout(240_000);
  let cloud: Cloud;
  let ports: { smtp: number; pop3: number; imap: number };

  beforeEach(async () => {
    cloud = await startCloud({ mail: { domain: 'localhost' } });
    const conf = JSON.parse(readFileSync(cloud.conf, 'utf8')) as { smtp: { port: number }; pop3: { port: number }; imap: { port: number } };
    ports = { smtp: conf.smtp.port, pop3: conf.pop3.port, imap: conf.imap.port };
    await Promise.all([
      startRole(['smtp', '--conf', cloud.conf, '--data', cloud.dataDir]),
      startRole(['pop3', '--conf', cloud.conf, '--data', cloud.dataDir]),
      startRole(['imap', '--conf', cloud.conf, '--data', cloud.dataDir]),
    ]);
    expect((await new ApiClient(cloud.urls[0]!).signUp('ann', PASSWORD)).status).to.equal(201);
  });
  afterEach(() => {
    closeKvClients();
    killAllRoles();
    cleanupTempDirs();
  });

  it('SMTP AUTH: 60 parallel wrong passwords, at most 5 checked (535), the rest 450 too many attempts; then the right one is refused', async () => {
    const guess = (password: string) => lastReply(ports.smtp, ['EHLO client.example.org', `AUTH PLAIN ${plain('ann', password)}`]);
    const replies = await Promise.all(Array.from({ length: GUESSES }, (_v, i) => guess(`guess ${i}`)));
    const checked = replies.filter((r) => r.startsWith('535 '));
    const locked = replies.filter((r) => /^4\d\d .*Too many attempts/.test(r));
    expect(checked.length, replies.join('\n')).to.be.within(1, PER_USER_MAX);
    expect(checked.length + locked.length, replies.join('\n')).to.equal(GUESSES);
    expect(await guess(PASSWORD)).to.match(/^4\d\d .*Too many attempts/);
  });

  it('POP3: 60 parallel wrong passwords, at most 5 checked, the rest refused as too many; then the right one is refused', async () => {
    const guess = (password: string) => lastReply(ports.pop3, ['USER ann', `PASS ${password}`]);
    const replies = await Promise.all(Array.from({ length: GUESSES }, (_v, i) => guess(`guess ${i}`)));
    const checked = replies.filter((r) => r === '-ERR [AUTH] invalid user name or password' || r.includes('invalid user name or password'));
    const locked = replies.filter((r) => r.startsWith('-ERR') && !r.includes('invalid user name or password'));
    expect(checked.length, replies.join('\n')).to.be.within(1, PER_USER_MAX);
    expect(checked.length + locked.length, replies.join('\n')).to.equal(GUESSES);
    const right = await guess(PASSWORD);
    expect(right).to.match(/^-ERR/).and.not.include('invalid user name or password');
  });

  it('IMAP: 60 parallel wrong passwords, at most 5 checked (AUTHENTICATIONFAILED), the rest told to wait; then the right one is refused', async () => {
    const guess = (password: string) => imapLogin(ports.imap, 'ann', password);
    const replies = await Promise.all(Array.from({ length: GUESSES }, (_v, i) => guess(`guess ${i}`)));
    const checked = replies.filter((r) => r === 'a NO [AUTHENTICATIONFAILED] invalid user name or password');
    const locked = replies.filter((r) => /^a NO \[UNAVAILABLE\] .*try again/.test(r));
    expect(checked.length, replies.join('\n')).to.be.within(1, PER_USER_MAX);
    expect(checked.length + locked.length, replies.join('\n')).to.equal(GUESSES);
    expect(await guess(PASSWORD)).to.match(/^a NO \[UNAVAILABLE\] /);
  });
});
