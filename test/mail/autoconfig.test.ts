import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs, killAllRoles, startRole, tempDir, writeTestConfig } from '../support/roles.js';

describe('mail transport: Thunderbird autoconfig on the frontends', () => {
  afterEach(() => {
    killAllRoles();
    cleanupTempDirs();
  });

  it('serves config-v1.1.xml at both places, naming IMAP first, then POP3, and SMTP', async () => {
    const dir = tempDir();
    const conf = await writeTestConfig(dir, { patch: (c) => { c.mail = { domain: 'penn.test' }; } });
    const ports = JSON.parse(readFileSync(conf, 'utf8')) as { smtp: { port: number }; pop3: { port: number }; imap: { port: number } };
    const frontend = await startRole(['frontend', '--id', '1', '--conf', conf, '--data', join(dir, 'data')]);
    for (const path of ['/.well-known/autoconfig/mail/config-v1.1.xml', '/mail/config-v1.1.xml?emailaddress=ann%40penn.test']) {
      const res = await fetch(frontend.ready + path);
      expect(res.status, path).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/xml; charset=utf-8');
      const xml = await res.text();
      expect(xml).to.match(/^<\?xml version="1.0"/);
      expect(xml).to.contain('<domain>penn.test</domain>');
      expect(xml).to.match(new RegExp(`<incomingServer type="imap">\\s*<hostname>127\\.0\\.0\\.1</hostname>\\s*<port>${ports.imap.port}</port>`));
      // Clients take the first incoming server they can use: IMAP keeps read state across devices.
      expect(xml.indexOf('type="imap"')).to.be.lessThan(xml.indexOf('type="pop3"'));
      expect(xml).to.match(new RegExp(`<incomingServer type="pop3">\\s*<hostname>127\\.0\\.0\\.1</hostname>\\s*<port>${ports.pop3.port}</port>`));
      expect(xml).to.match(new RegExp(`<outgoingServer type="smtp">\\s*<hostname>127\\.0\\.0\\.1</hostname>\\s*<port>${ports.smtp.port}</port>`));
      expect(xml).to.contain('<username>%EMAILLOCALPART%</username>');
      // Autoconfig leaves mail on the server: a client set up by it never deletes what the webmail shows.
      expect(xml).to.contain('<leaveMessagesOnServer>true</leaveMessagesOnServer>');
    }
  });
});
