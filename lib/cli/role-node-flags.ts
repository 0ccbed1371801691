/**
 * Flags for the Node runtime of the long-running roles (coordinator, storage node, frontend,
 * dispatcher, mail servers). V8 sizes its heap at start-up, so they cannot be set from inside
 * the process, and node refuses them in NODE_OPTIONS: whoever spawns a role passes them (the
 * supervisor behind `penncloud start`, the test and benchmark harnesses). A role started by hand
 * runs without them, only with more garbage collection.
 *
 * --initial-old-space-size: a storage node holds file chunks (1 MiB buffers) only briefly, but
 * V8 counts that memory against a heap that starts at a few MiB, so it ran a full mark-compact
 * for about every 16 MiB of chunks passing through (20 or more per node for a 256 MiB upload).
 * Starting the old space at 64 MiB leaves a handful.
 *
 * Not the frontend: there the same flag let the chunks of a download pile up dead until a
 * collection, about 64 MiB of them, so that its memory grew 60-82 MiB while it streamed a
 * 200 MiB file (44-52 MiB without it). Its uploads and downloads ran as fast without it
 * (bench:drive: 209 and 786 MiB/s without, 203 and 822 with).
 */
const SHARED_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

/** The runtime flags for `penncloud <role> ...` (`role`: its first argument). */
export function roleNodeFlags(role: string | undefined): readonly string[] {
  return role === 'frontend' ? [] : SHARED_FLAGS;
}
