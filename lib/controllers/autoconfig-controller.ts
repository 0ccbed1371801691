/**
 * Mail client set-up in the Thunderbird autoconfig format (config-v1.1.xml), served at
 * `/.well-known/autoconfig/mail/config-v1.1.xml` and `/mail/config-v1.1.xml`: the IMAP, POP3 and
 * SMTP hosts, ports and authentication, so a mail client configures itself from an address. IMAP
 * comes first: clients take the first incoming server they can use, and IMAP keeps read state
 * and folders the same on every device.
 */
import { Controller, type RouteTable } from '../router/router.js';

export interface MailEndpoints {
  domain: string;
  imap: { host: string; port: number; starttls: boolean };
  pop3: { host: string; port: number; starttls: boolean };
  smtp: { host: string; port: number; starttls: boolean };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The XML document for these endpoints. */
export function autoconfigXml(m: MailEndpoints): string {
  const server = (tag: 'incomingServer' | 'outgoingServer', type: string, e: MailEndpoints['pop3'], extra: string): string => `    <${tag} type="${type}">
      <hostname>${escapeXml(e.host)}</hostname>
      <port>${e.port}</port>
      <socketType>${e.starttls ? 'STARTTLS' : 'plain'}</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILLOCALPART%</username>${extra}
    </${tag}>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${escapeXml(m.domain)}">
    <domain>${escapeXml(m.domain)}</domain>
    <displayName>PennCloud Mail</displayName>
    <displayShortName>PennCloud</displayShortName>
${server('incomingServer', 'imap', m.imap, '')}
${server('incomingServer', 'pop3', m.pop3, '\n      <pop3>\n        <leaveMessagesOnServer>true</leaveMessagesOnServer>\n      </pop3>')}
${server('outgoingServer', 'smtp', m.smtp, '')}
  </emailProvider>
</clientConfig>
`;
}

export class AutoconfigController extends Controller {
  private readonly xml: string;

  constructor(endpoints: MailEndpoints) {
    super();
    this.xml = autoconfigXml(endpoints);
  }

  routes(table: RouteTable): void {
    table.get('/config-v1.1.xml', (ctx) => {
      ctx.res.setHeader('cache-control', 'public, max-age=3600');
      ctx.text(200, this.xml, 'application/xml; charset=utf-8');
    });
  }
}
