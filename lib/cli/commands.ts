/** Every `penncloud` subcommand, in the order `--help` lists them. */
import type { Command } from './command.js';
import { upCommand } from './up-command.js';
import { frontendCommand } from './frontend-command.js';
import { dispatcherCommand } from './dispatcher-command.js';
import { coordinatorCommand } from './coordinator-command.js';
import { smtpCommand } from './smtp-command.js';
import { imapCommand } from './imap-command.js';
import { pop3Command } from './pop3-command.js';
import { lincheckCommand } from './lincheck-command.js';
import { kvnodeCommand } from './kvnode-command.js';
import { kvCommand } from './kv-command.js';
import { adminCommand } from './admin-command.js';

export const COMMANDS: Command[] = [
  upCommand,
  frontendCommand,
  dispatcherCommand,
  coordinatorCommand,
  smtpCommand,
  pop3Command,
  imapCommand,
  lincheckCommand,
  kvnodeCommand,
  kvCommand,
  adminCommand,
];
