// The one place netlab's cluster code leans on Node internals, and why.
//
// With round-robin scheduling (Node's default except on Windows) the
// primary accepts each connection and sends its handle to a worker over
// IPC, keeping its own copy open until the worker acknowledges it. A worker
// killed in between never does, so Node never closes that copy: the client,
// whose request nobody will read, eventually gives up, and the primary's
// end sits in CLOSE-WAIT until the service exits, one per kill
// (apps/http-hello/test/cluster-kill.test.ts saw them under load).
//
// No public API sees that hand-off. The public way around it,
// `cluster.schedulingPolicy = SCHED_NONE` (workers accept from the shared
// socket themselves, the primary holds nothing), gives the kernel the
// distribution, which Node's docs found "very unbalanced" (over 70% of
// connections in two of eight workers): that is why round-robin is the
// default. So this module reads Node's own cluster
// protocol (lib/internal/cluster/round_robin_handle.js and child.js): the
// `{cmd: 'NODE_CLUSTER', act: 'newconn', seq}` message the primary sends with
// each handle, through the worker's ChildProcess#send, and the
// `{cmd: 'NODE_CLUSTER', ack: seq}` reply, which Node delivers as an
// 'internalMessage' event. Both are the same in Node 20 and 24, which the
// test (test/cluster-handoffs.test.ts) runs on
// (`scripts/test-node.sh 24 --filter @netlab/common`). Should Node change
// them, nothing breaks: no hand-off is recorded, and the leak is back.
import type { ChildProcess } from 'node:child_process';

interface Closable {
  close(): void;
}

/** Node's cluster protocol, as lib/internal/cluster/{round_robin_handle,child}.js speak it. */
interface InternalClusterMessage {
  cmd?: unknown;
  act?: unknown;
  seq?: unknown;
  ack?: unknown;
}

/**
 * Remembers every handle sent to `child` with a `newconn` until its `ack`
 * comes back; `closeAll()` (when the worker has exited) closes what is
 * left, so those clients see the connection end, as they would had the
 * worker accepted and then died, instead of waiting forever.
 */
export function trackHandoffs(child: ChildProcess): {
  closeAll(): number;
  readonly pending: number;
} {
  const pending = new Map<unknown, Closable>();
  const send = child.send.bind(child) as (...args: unknown[]) => boolean;
  (child as { send: (...args: unknown[]) => boolean }).send = (...args: unknown[]) => {
    const [message, handle] = args as [InternalClusterMessage, Closable | undefined];
    if (message?.cmd === 'NODE_CLUSTER' && message.act === 'newconn' && handle) {
      pending.set(message.seq, handle);
    }
    return send(...args);
  };
  child.on('internalMessage', (message: InternalClusterMessage) => {
    if (message?.cmd === 'NODE_CLUSTER' && message.ack !== undefined) pending.delete(message.ack);
  });
  return {
    get pending() {
      return pending.size;
    },
    closeAll() {
      const count = pending.size;
      for (const handle of pending.values()) handle.close();
      pending.clear();
      return count;
    },
  };
}
