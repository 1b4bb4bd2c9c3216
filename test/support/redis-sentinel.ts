/**
 * A private Redis Sentinel setup for the failover tests and the failover load run: one primary,
 * one replica (or more) and three `redis-sentinel`s (the same `redis-server` binary with `--sentinel`), each
 * on a free loopback port, in a temp dir removed by `stop()`.
 *
 * The sentinels watch the primary under the name {@link SENTINEL_MASTER_NAME} with quorum 2,
 * `down-after-milliseconds` 1000 and `failover-timeout` 5000, so a killed primary is replaced
 * within a few seconds. Nothing is persisted (`--save ''`), as in the other private servers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import {
  clientTracker,
  freePort,
  hasBinary,
  HOST,
  INSTALL_HINT,
  ServerProcess,
  uniquePrefix,
} from './redis-server';

/** The master name the sentinels monitor. */
export const SENTINEL_MASTER_NAME = 'nest-session-primary';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A private primary + replica watched by three sentinels. */
export interface RedisSentinelHandle {
  /** The sentinels' addresses (what an app lists in `sentinels`). */
  sentinels: { host: string; port: number }[];
  /** The monitored master's name. */
  name: string;
  /** A key prefix unique to this handle. */
  prefix: string;
  /**
   * A Sentinel-configured ioredis client, as the README shows it (`sentinels` + `name`),
   * disconnected by `stop()`.
   */
  client(options?: RedisOptions): Redis;
  /** A plain client to one data node (by port), disconnected by `stop()`. */
  nodeClient(port: number): Redis;
  /** The data node ports: `[primary, replica]` as the sentinels see them now. */
  roles(): Promise<{ primary: number; replicas: number[] }>;
  /**
   * `SENTINEL FAILOVER`: a graceful switch to the replica. Resolves once the sentinels name the
   * new primary and it answers as a master.
   */
  failover(): Promise<{ from: number; to: number }>;
  /**
   * Kills the current primary (SIGKILL, like a crash) and resolves once the sentinels have
   * promoted a replica. The killed node is then restarted as a replica of the new primary (its
   * data gone, as after a crash without persistence) and resolves once it is in sync.
   */
  killPrimary(): Promise<{ from: number; to: number }>;
  /**
   * Waits until the topology is at rest: every data node but the primary is its replica and in
   * sync (after a graceful failover, Sentinel demotes the old primary only when it next polls it:
   * 10–20 s later, and that is when the writes it took meanwhile are discarded).
   */
  settled(timeoutMs?: number): Promise<void>;
  /**
   * Cuts every replica off the primary's replication stream, so that the writes the primary
   * acknowledges next reach no replica: what a replica reading its stream late on a starved CPU
   * does to a failover, made deterministic. Each replica is given a wrong `masterauth` and its
   * link is killed on the primary (it then fails to reconnect: the primary has no password);
   * resolves once every replica reports its link down. `reattach()` clears `masterauth` on every
   * data node (so the replicas reconnect to whichever node is the primary by then).
   */
  detachReplicas(): Promise<{ reattach(): Promise<void> }>;
  /** Disconnects the clients and kills every process. */
  stop(): Promise<void>;
}

/** The primary's port according to a sentinel. */
async function primaryPortOf(sentinel: Redis): Promise<number> {
  const reply = (await sentinel.call(
    'SENTINEL',
    'GET-MASTER-ADDR-BY-NAME',
    SENTINEL_MASTER_NAME,
  )) as [string, string] | null;
  if (!reply) throw new Error('the sentinel knows no primary');
  return Number(reply[1]);
}

/** Waits until `check` resolves true (polling), or fails with `what` after `ms`. */
async function waitFor(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what} (${String(last)})`);
    await sleep(100);
  }
}

/**
 * Starts the primary, `replicas` replicas (default 1) and three sentinels, and waits until all
 * see each other.
 */
export async function startRedisSentinel(
  options: { replicas?: number } = {},
): Promise<RedisSentinelHandle> {
  const replicaCount = options.replicas ?? 1;
  if (!hasBinary('redis-server')) throw new Error(INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'nest-session-sentinel-'));
  const tracker = clientTracker();
  const data = new Map<number, ServerProcess>();
  const sentinelProcesses: ServerProcess[] = [];
  const admin = new Map<number, Redis>();
  /** One admin connection per port (errors are expected while a node is down). */
  const plain = (port: number): Redis => {
    let c = admin.get(port);
    if (!c) {
      c = new Redis({ host: HOST, port, maxRetriesPerRequest: 1, disconnectTimeout: 100 });
      c.on('error', () => undefined);
      admin.set(port, c);
    }
    return c;
  };
  const stopAll = async () => {
    await tracker.closeAll();
    for (const c of admin.values()) c.disconnect();
    admin.clear();
    for (const s of sentinelProcesses) await s.kill();
    for (const s of data.values()) await s.kill();
    rmSync(dir, { recursive: true, force: true });
  };

  const dataNode = async (port: number, replicaOf?: number) => {
    const args = replicaOf === undefined ? [] : ['--replicaof', HOST, String(replicaOf)];
    const server = new ServerProcess(port, dir, args);
    data.set(port, server);
    await server.start();
  };

  /** Waits until the replica on `port` is in sync with its primary. */
  const synced = (port: number) =>
    waitFor(`the replica on ${port} to sync`, async () =>
      /master_link_status:up/.test(await plain(port).info('replication')),
    );

  let sentinels: Redis[] = [];
  try {
    const primaryPort = await freePort();
    await dataNode(primaryPort);
    const replicaPorts: number[] = [];
    for (let i = 0; i < replicaCount; i++) {
      const port = await freePort();
      replicaPorts.push(port);
      await dataNode(port, primaryPort);
    }
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const file = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `sentinel monitor ${SENTINEL_MASTER_NAME} ${HOST} ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 1000`,
          `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 5000`,
          `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      const sentinel = new ServerProcess(port, dir, [], file);
      sentinelProcesses.push(sentinel);
      await sentinel.start();
    }
    sentinels = sentinelProcesses.map((s) => plain(s.port));
    await waitFor('the sentinels to see the replica and each other', async () => {
      for (const s of sentinels) {
        const fields = (await s.call('SENTINEL', 'MASTER', SENTINEL_MASTER_NAME)) as string[];
        const info = new Map<string, string>();
        for (let i = 0; i + 1 < fields.length; i += 2) info.set(fields[i]!, fields[i + 1]!);
        if (
          info.get('num-slaves') !== String(replicaCount) ||
          info.get('num-other-sentinels') !== '2'
        )
          return false;
      }
      return true;
    });
    for (const port of replicaPorts) await synced(port);
  } catch (err) {
    await stopAll();
    throw err;
  }

  const addresses = sentinelProcesses.map((s) => ({ host: HOST, port: s.port }));
  const first = sentinels[0] as Redis;

  const roles = async () => {
    const primary = await primaryPortOf(first);
    return { primary, replicas: [...data.keys()].filter((p) => p !== primary) };
  };

  /** Waits until every sentinel names `port` as the primary and the node says it is one. */
  const promoted = async (from: number): Promise<number> => {
    let to = from;
    await waitFor('the sentinels to promote the replica', async () => {
      const ports = await Promise.all(sentinels.map((s) => primaryPortOf(s)));
      if (!ports.every((p) => p === ports[0]) || ports[0] === from) return false;
      to = ports[0] as number;
      const role = (await plain(to).call('ROLE')) as [string];
      return role[0] === 'master';
    });
    return to;
  };

  return {
    sentinels: addresses,
    name: SENTINEL_MASTER_NAME,
    prefix: uniquePrefix(),
    client: (options: RedisOptions = {}) =>
      tracker.track(
        new Redis({
          sentinels: addresses,
          name: SENTINEL_MASTER_NAME,
          disconnectTimeout: 100,
          ...options,
        }),
      ),
    nodeClient: (port: number) =>
      tracker.track(new Redis({ host: HOST, port, disconnectTimeout: 100 })),
    roles,
    async failover() {
      const { primary: from } = await roles();
      await first.call('SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME);
      return { from, to: await promoted(from) };
    },
    async killPrimary() {
      const { primary: from } = await roles();
      const server = data.get(from);
      if (!server) throw new Error(`no data node on port ${from}`);
      await server.kill();
      const to = await promoted(from);
      // Back as a replica of the new primary (the sentinels would reconfigure it anyway).
      data.delete(from);
      await dataNode(from, to);
      await synced(from);
      return { from, to };
    },
    async settled(timeoutMs = 40_000) {
      await waitFor(
        'the old primary to be demoted and in sync',
        async () => {
          const { primary, replicas } = await roles();
          for (const port of replicas) {
            const info = await plain(port).info('replication');
            if (!/role:slave/.test(info) || !info.includes(`master_port:${primary}`)) return false;
            if (!/master_link_status:up/.test(info)) return false;
          }
          return true;
        },
        timeoutMs,
      );
    },
    async detachReplicas() {
      const { primary, replicas } = await roles();
      for (const port of replicas) {
        await plain(port).call('CONFIG', 'SET', 'masterauth', 'not-the-password');
      }
      await plain(primary).call('CLIENT', 'KILL', 'TYPE', 'replica');
      for (const port of replicas) {
        await waitFor(`the replica on ${port} to lose its link`, async () =>
          /master_link_status:down/.test(await plain(port).info('replication')),
        );
      }
      return {
        async reattach() {
          for (const port of data.keys()) {
            await plain(port).call('CONFIG', 'SET', 'masterauth', '');
          }
        },
      };
    },
    stop: stopAll,
  };
}
