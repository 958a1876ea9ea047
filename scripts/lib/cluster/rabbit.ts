/**
 * The cluster's three RabbitMQ nodes, from the locally installed `rabbitmq-server`: each with its
 * own ports, node name and data folder under CLUSTER_DIR; started, stopped, joined and asked who
 * runs and who leads a queue through the RabbitMQ CLI.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { portOpen } from '../ports';
import { CLUSTER_DIR, waitFor } from './place';

const run = promisify(execFile);

export interface RabbitNode {
  index: number;
  name: string;
  amqpPort: number;
  distPort: number;
  managementPort: number;
}

export const RABBIT_NODES: readonly RabbitNode[] = [0, 1, 2].map((index) => ({
  index,
  name: `payments-${index + 1}@localhost`,
  amqpPort: 5701 + index,
  distPort: 25701 + index,
  managementPort: 15701 + index,
}));

/** The real scripts: Debian's `/usr/sbin` wrappers re-run them as the `rabbitmq` user, with its cookie. */
export function rabbitBin(name: string): string {
  const packaged = `/usr/lib/rabbitmq/bin/${name}`;
  return existsSync(packaged) ? packaged : name;
}

function rabbitEnv(node: RabbitNode): NodeJS.ProcessEnv {
  const dir = join(CLUSTER_DIR, `rabbit-${node.index + 1}`);
  return {
    ...process.env,
    HOME: CLUSTER_DIR, // where the Erlang cookie is, for the servers and for the CLI tools alike
    RABBITMQ_CONF_ENV_FILE: join(CLUSTER_DIR, 'rabbitmq-env.conf'), // not the machine's own
    RABBITMQ_NODENAME: node.name,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(node.amqpPort),
    RABBITMQ_DIST_PORT: String(node.distPort),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    // The Erlang VM (and each CLI call) writes a crash dump there, not into the caller's folder.
    ERL_CRASH_DUMP: join(dir, 'erl_crash.dump'),
  };
}

/** A RabbitMQ CLI command against one node; rejects with its output when it fails. */
export async function rabbitctl(tool: string, node: RabbitNode, args: string[], timeoutMs = 60_000) {
  try {
    const { stdout } = await run(rabbitBin(tool), ['-n', node.name, ...args], {
      env: rabbitEnv(node),
      timeout: timeoutMs,
    });
    return stdout;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(
      `${tool} ${args.join(' ')} on ${node.name} failed: ${(stderr || stdout || '').trim().slice(0, 400)}`,
    );
  }
}

export async function rabbitRunning(node: RabbitNode): Promise<boolean> {
  return rabbitctl('rabbitmqctl', node, ['-q', 'await_startup', '--timeout', '2'], 10_000).then(
    () => true,
    () => false,
  );
}

function writeRabbitFiles(node: RabbitNode): void {
  const dir = join(CLUSTER_DIR, `rabbit-${node.index + 1}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${node.amqpPort}`,
      `management.tcp.ip = 127.0.0.1`,
      `management.tcp.port = ${node.managementPort}`,
      // A node stopped on purpose is not a partition to heal by hand.
      'cluster_partition_handling = pause_minority',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
}

/** Starts one node (detached) and waits until it serves; a node already running is left as it is. */
export async function startRabbitNode(node: RabbitNode): Promise<void> {
  if (await rabbitRunning(node)) return;
  // Its distribution port taken: the node is booting already (a second one would crash on it).
  if (await portOpen('127.0.0.1', node.distPort)) {
    await waitFor(`${node.name} to start`, () => rabbitRunning(node), 180_000);
    return;
  }
  writeRabbitFiles(node);
  await run(rabbitBin('rabbitmq-server'), ['-detached'], { env: rabbitEnv(node), timeout: 30_000 });
  // await_startup fails at once while the node has not yet registered its name: poll it.
  await waitFor(`${node.name} to start`, () => rabbitRunning(node), 180_000);
}

/** Stops one node's Erlang VM (as a crash or a reboot would take it away). */
export async function stopRabbitNode(node: RabbitNode): Promise<void> {
  // Still booting (its distribution port taken, not answering yet): stopped once it answers.
  if (!(await rabbitRunning(node)) && (await portOpen('127.0.0.1', node.distPort)))
    await waitFor(`${node.name} to start`, () => rabbitRunning(node), 180_000).catch(() => undefined);
  if (!(await rabbitRunning(node))) return;
  await rabbitctl('rabbitmqctl', node, ['-q', 'stop'], 60_000);
}

/** The nodes the first node sees running in its cluster. */
export async function runningMembers(): Promise<string[]> {
  for (const node of RABBIT_NODES) {
    try {
      const status = JSON.parse(
        await rabbitctl('rabbitmqctl', node, ['cluster_status', '--formatter', 'json'], 15_000),
      ) as { running_nodes?: string[] };
      return status.running_nodes ?? [];
    } catch {
      // ask the next
    }
  }
  return [];
}

/** The node that leads a quorum queue now (its Raft leader), or undefined when none answers. */
export async function queueLeader(queue: string): Promise<string | undefined> {
  for (const node of RABBIT_NODES) {
    try {
      const rows = JSON.parse(
        await rabbitctl(
          'rabbitmqctl',
          node,
          ['list_queues', 'name', 'leader', '--formatter', 'json', '-q'],
          15_000,
        ),
      ) as { name: string; leader?: string }[];
      return rows.find((row) => row.name === queue)?.leader;
    } catch {
      // ask the next
    }
  }
  return undefined;
}

/** Joins the second and third nodes to the first's cluster (a member already is left as it is). */
export async function joinCluster(): Promise<void> {
  const [first, ...others] = RABBIT_NODES as [RabbitNode, ...RabbitNode[]];
  const members = await runningMembers();
  for (const node of others) {
    if (members.includes(node.name)) continue;
    await rabbitctl('rabbitmqctl', node, ['-q', 'stop_app']);
    await rabbitctl('rabbitmqctl', node, ['-q', 'reset']);
    await rabbitctl('rabbitmqctl', node, ['-q', 'join_cluster', first.name]);
    await rabbitctl('rabbitmqctl', node, ['-q', 'start_app']);
  }
}
