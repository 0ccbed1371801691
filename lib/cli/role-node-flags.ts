/**
 * Flags for the Node runtime of every long-running role (coordinator, storage node, frontend,
 * dispatcher, mail servers). V8 sizes its heap at start-up, so they cannot be set from inside
 * the process, and node refuses them in NODE_OPTIONS: whoever spawns a role passes them (the
 * supervisor behind `penncloud start`, the test and benchmark harnesses). A role started by hand
 * runs without them, only with more garbage collection.
 *
 * --initial-old-space-size: a storage node and a frontend hold file chunks (1 MiB buffers) only
 * briefly, but V8 counts that memory against a heap that starts at a few MiB, so it ran a full
 * mark-compact for about every 16 MiB of chunks passing through (20 or more per node for a
 * 256 MiB upload). Starting the old space at 64 MiB leaves a handful.
 */
export const ROLE_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];
