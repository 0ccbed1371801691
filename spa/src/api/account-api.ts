/** Accounts and sessions: `/api/users` and `/api/session` (docs/api.md). */
import { ApiError } from './api-error';
import { requestJson, send } from './http';

export interface User {
  username: string;
  createdMs?: number;
  /** Set by servers that tell the app who may open the admin console. */
  admin?: boolean;
  isAdmin?: boolean;
}

interface SessionReply {
  user: User;
}

/** The signed-in user, or null when there is no valid session. */
export async function currentUser(): Promise<User | null> {
  try {
    return (await requestJson<SessionReply>('GET', '/api/session', { quietUnauthenticated: true })).user;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export async function signIn(username: string, password: string): Promise<User> {
  return (await requestJson<SessionReply>('POST', '/api/session', { json: { username, password }, quietUnauthenticated: true })).user;
}

export async function signUp(username: string, password: string): Promise<User> {
  return (await requestJson<SessionReply>('POST', '/api/users', { json: { username, password } })).user;
}

export async function signOut(): Promise<void> {
  await send('DELETE', '/api/session', { quietUnauthenticated: true });
}

export async function changePassword(oldPassword: string, newPassword: string): Promise<void> {
  await send('PUT', '/api/users/me/password', { json: { oldPassword, newPassword }, quietUnauthenticated: true });
}

/** Whether the session reply says the user is an admin (undefined when it does not say). */
export function adminFlag(user: User): boolean | undefined {
  return user.admin ?? user.isAdmin;
}
