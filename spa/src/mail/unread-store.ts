/** The Inbox's unread count, for the tab's title ("Mail (3) · PennCloud"); null until known. */
import { createStore } from '../ui/store';

export const inboxUnread = createStore<number | null>(null);
