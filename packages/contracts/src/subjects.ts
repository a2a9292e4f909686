import type { z } from 'zod';
import { ContainerListSchema, ContainerViewSchema, CreateContainerReplySchema, DeleteContainerReplySchema } from './containers.js';
import { ExecResultSchema } from './exec.js';
import { IdleStateSchema, KeepaliveRequestSchema } from './idle.js';
import {
  ContainerEventSchema,
  ContainerRefRequestSchema,
  ContainerResumeRequestSchema,
  CreateContainerRequestSchema,
  EmptyRequestSchema,
  ExecRequestSchema,
  HostStatusSchema,
  ListContainersRequestSchema,
  VolumeRefRequestSchema,
  type ContainerEventKind,
} from './messages.js';
import { HostDrainRequestSchema, HostHeartbeatSchema } from './hosts.js';
import { PoolListSchema } from './pools.js';
import { RepoSyncReplySchema, RepoSyncRequestSchema } from './repo.js';
import { CallbackRegisterReplySchema, CallbackRegisterRequestSchema, SetupEventSchema, SetupStartRequestSchema, SetupStatusSchema } from './setup.js';
import { ExecStreamRequestSchema, StreamOpenedSchema, TerminalOpenRequestSchema } from './streams.js';
import {
  PreviewLinkCreateReplySchema,
  PreviewLinkCreateRequestSchema,
  PreviewLinkResolveReplySchema,
  PreviewLinkResolveRequestSchema,
  PreviewLinkRevokeRequestSchema,
  RevokedPreviewSchema,
} from './previews.js';
import { TicketCreateRequestSchema, TicketRedeemReplySchema, TicketRedeemRequestSchema, TicketReplySchema } from './tickets.js';
import { UsageSchema } from './usage.js';
import { DeleteVolumeReplySchema, VolumeListSchema } from './volumes.js';
import {
  LlmKeyRegisterReplySchema,
  LlmKeyRegisterRequestSchema,
  LlmKeyRevokeReplySchema,
  LlmKeyRevokeRequestSchema,
  LlmKeyStateReplySchema,
  LlmKeySyncReplySchema,
  LlmKeySyncRequestSchema,
  LlmUsageEventSchema,
  LlmUsageRequestSchema,
  LlmUsageSchema,
} from './llm.js';
import { LogAppendReplySchema, LogAppendRequestSchema } from './setup-output.js';
import { CONTRACTS_VERSION } from './version.js';
import { FilesWatchOpenedSchema, FilesWatchRequestSchema } from './files-watch.js';
import {
  TemplateBuildRequestSchema,
  TemplateHostListSchema,
  TemplateListRequestSchema,
  TemplateRefRequestSchema,
  TemplateRemovedSchema,
} from './template-messages.js';
import { TemplateViewSchema } from './templates.js';
import { FilesOpReplySchema, FilesOpRequestSchema, FilesReadOpenedSchema, FilesReadRequestSchema, FilesWriteRequestSchema } from './files.js';

export interface RequestSubject<Req extends z.ZodType, Rep extends z.ZodType> {
  kind: 'request';
  subject: string;
  /** Services that answer it (they subscribe in a queue group of this name). */
  servedBy: ServiceName;
  /** Services that send it; NATS permissions are generated from these lists. */
  calledBy: readonly ServiceName[];
  request: Req;
  reply: Rep;
  description: string;
}

export const SERVICE_NAMES = ['gateway', 'pool-manager', 'image-builder', 'repo-cache', 'log-streamer', 'egress'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

function request<Req extends z.ZodType, Rep extends z.ZodType>(
  subject: string,
  servedBy: ServiceName,
  calledBy: readonly ServiceName[],
  req: Req,
  rep: Rep,
  description: string,
): RequestSubject<Req, Rep> {
  return { kind: 'request', subject, servedBy, calledBy, request: req, reply: rep, description };
}

/** Every request/reply subject berth uses. Other systems read this catalogue, not the code. */
export const SUBJECTS = {
  containerCreate: request(
    'berth.container.create',
    'pool-manager',
    ['gateway'],
    CreateContainerRequestSchema,
    CreateContainerReplySchema,
    'Claim a warm container from a pool, or cold-create one when the pool is empty.',
  ),
  containerGet: request('berth.container.get', 'pool-manager', ['gateway'], ContainerRefRequestSchema, ContainerViewSchema, 'Read one claimed container.'),
  containerUsage: request(
    'berth.container.usage',
    'pool-manager',
    ['gateway'],
    ContainerRefRequestSchema,
    UsageSchema,
    "One sample of a claimed container's CPU, memory, pids and network use (engine stats, about a second).",
  ),
  containerKeepalive: request(
    'berth.container.keepalive',
    'pool-manager',
    ['gateway'],
    KeepaliveRequestSchema,
    IdleStateSchema,
    "Count as activity now (followed logs, previews, callers' keepalives), optionally setting the idle timeout.",
  ),
  containerList: request(
    'berth.container.list',
    'pool-manager',
    ['gateway'],
    ListContainersRequestSchema,
    ContainerListSchema,
    "List the caller's claimed containers.",
  ),
  containerDelete: request(
    'berth.container.delete',
    'pool-manager',
    ['gateway'],
    ContainerRefRequestSchema,
    DeleteContainerReplySchema,
    'Remove a claimed container and release its host ports.',
  ),
  containerExec: request(
    'berth.container.exec',
    'pool-manager',
    ['gateway'],
    ExecRequestSchema,
    ExecResultSchema,
    'Run a command with a timeout in a claimed container.',
  ),
  containerExecStream: request(
    'berth.exec.stream',
    'pool-manager',
    ['gateway'],
    ExecStreamRequestSchema,
    StreamOpenedSchema,
    'Start a command whose output streams to the given inbox (see STREAMS for the protocol).',
  ),
  terminalOpen: request(
    'berth.terminal.open',
    'pool-manager',
    ['gateway'],
    TerminalOpenRequestSchema,
    StreamOpenedSchema,
    'Start an interactive shell on a PTY whose output streams to the given inbox.',
  ),
  ticketCreate: request(
    'berth.ticket.create',
    'pool-manager',
    ['gateway'],
    TicketCreateRequestSchema,
    TicketReplySchema,
    "Mint a single-use ticket (30 s) for one container's stream or terminal; stored hashed in Redis.",
  ),
  ticketRedeem: request(
    'berth.ticket.redeem',
    'pool-manager',
    ['gateway'],
    TicketRedeemRequestSchema,
    TicketRedeemReplySchema,
    'Redeem a ticket atomically (GETDEL); a used, expired or foreign ticket is UNAUTHORIZED.',
  ),
  volumeList: request(
    'berth.volume.list',
    'pool-manager',
    ['gateway'],
    ListContainersRequestSchema,
    VolumeListSchema,
    "List the caller's named volumes (made by creates with volumeName) on this host.",
  ),
  volumeDelete: request(
    'berth.volume.delete',
    'pool-manager',
    ['gateway'],
    VolumeRefRequestSchema,
    DeleteVolumeReplySchema,
    "Remove one of the caller's named volumes and its data; VOLUME_IN_USE while a container mounts it.",
  ),
  poolList: request('berth.pool.list', 'pool-manager', ['gateway'], EmptyRequestSchema, PoolListSchema, 'Pools with their configuration and fill level.'),
  setupStart: request(
    'berth.setup.start',
    'pool-manager',
    ['gateway'],
    SetupStartRequestSchema,
    SetupStatusSchema,
    'Start cloning, installing and starting a repository in a claimed container; replies with the first status (phase queued).',
  ),
  setupGet: request(
    'berth.setup.get',
    'pool-manager',
    ['gateway'],
    ContainerRefRequestSchema,
    SetupStatusSchema,
    'The latest setup status of a container (SETUP_NOT_FOUND before any setup).',
  ),
  repoSync: request(
    'berth.repo.sync',
    'repo-cache',
    ['pool-manager', 'image-builder'],
    RepoSyncRequestSchema,
    RepoSyncReplySchema,
    'Bring the bare mirror of a repository up to date through egress; concurrent requests share one fetch.',
  ),
  callbackRegister: request(
    'berth.callback.register',
    'egress',
    ['pool-manager'],
    CallbackRegisterRequestSchema,
    CallbackRegisterReplySchema,
    "Check a callback URL (SSRF guard after DNS) and keep it with its secret for the container's setup events.",
  ),
  containerLlmKeyRevoke: request(
    'berth.container.llmrevoke',
    'pool-manager',
    ['gateway'],
    ContainerRefRequestSchema,
    LlmKeyStateReplySchema,
    "Revoke a claimed container's LLM key: egress answers 401 to it from now on, and new commands get no key.",
  ),
  containerLlmKeyRotate: request(
    'berth.container.llmrotate',
    'pool-manager',
    ['gateway'],
    ContainerRefRequestSchema,
    LlmKeyStateReplySchema,
    'Give a claimed container a new LLM key (the old one stops working); commands started afterwards get it.',
  ),
  llmKeyRegister: request(
    'berth.llmkey.register',
    'egress',
    ['pool-manager'],
    LlmKeyRegisterRequestSchema,
    LlmKeyRegisterReplySchema,
    "Accept a workspace's scoped LLM key (by its SHA-256 only) with the workspace's limits; replaces its earlier key.",
  ),
  llmKeyRevoke: request(
    'berth.llmkey.revoke',
    'egress',
    ['pool-manager'],
    LlmKeyRevokeRequestSchema,
    LlmKeyRevokeReplySchema,
    "Stop accepting a workspace's LLM key (workspace removed or key revoked).",
  ),
  llmKeySync: request(
    'berth.llmkey.sync',
    'egress',
    ['pool-manager'],
    LlmKeySyncRequestSchema,
    LlmKeySyncReplySchema,
    'The LLM keys of every claimed workspace of one host, sent on reconcile: keys of vanished workspaces are dropped.',
  ),
  llmUsage: request(
    'berth.llm.usage',
    'egress',
    ['gateway'],
    LlmUsageRequestSchema,
    LlmUsageSchema,
    "A workspace's LLM requests, tokens and spend, and the limits in force.",
  ),
  hostStatus: request(
    'berth.host.status',
    'pool-manager',
    ['gateway'],
    EmptyRequestSchema,
    HostStatusSchema,
    'Container counts and capacity of a Docker host.',
  ),
  // w3-setup-stream
  logsAppend: request(
    'berth.logs.append',
    'log-streamer',
    ['pool-manager'],
    LogAppendRequestSchema,
    LogAppendReplySchema,
    "Append a setup's output lines (scrubbed, bounded) to the container's logs as stream `setup`; replies once LOGS stored them.",
  ),
  // w3-files
  filesOp: request(
    'berth.files.op',
    'pool-manager',
    ['gateway'],
    FilesOpRequestSchema,
    FilesOpReplySchema,
    'List, stat, remove, move or make a directory in a claimed workspace, through its agent as the workspace user.',
  ),
  filesRead: request(
    'berth.files.read',
    'pool-manager',
    ['gateway'],
    FilesReadRequestSchema,
    FilesReadOpenedSchema,
    'Open a file (or a directory as tar) in a claimed workspace; its bytes stream to the given inbox.',
  ),
  filesWrite: request(
    'berth.files.write',
    'pool-manager',
    ['gateway'],
    FilesWriteRequestSchema,
    StreamOpenedSchema,
    'Open a file (or a directory for a tar) for writing in a claimed workspace; the body comes as stream control messages.',
  ),
  // w3-preview: share links of preview URLs
  previewLinkCreate: request(
    'berth.previewlink.create',
    'pool-manager',
    ['gateway'],
    PreviewLinkCreateRequestSchema,
    PreviewLinkCreateReplySchema,
    'Mint a share link for a published port of a claimed container; only its SHA-256 is stored (Redis, with its expiry).',
  ),
  previewLinkResolve: request(
    'berth.previewlink.resolve',
    'pool-manager',
    ['gateway'],
    PreviewLinkResolveRequestSchema,
    PreviewLinkResolveReplySchema,
    'Which container, owner and port a share-link secret opens; unknown, revoked or expired is UNAUTHORIZED.',
  ),
  previewLinkRevoke: request(
    'berth.previewlink.revoke',
    'pool-manager',
    ['gateway'],
    PreviewLinkRevokeRequestSchema,
    RevokedPreviewSchema,
    "Revoke one of a container's share links; it stops working at once (PREVIEW_NOT_FOUND when unknown).",
  ),
  // w3-pause
  containerPause: request(
    'berth.container.pause',
    'pool-manager',
    ['gateway'],
    ContainerRefRequestSchema,
    ContainerViewSchema,
    "Freeze a claimed container's processes and release its memory from the host budget; volume, ports and setup stay, its LLM key is refused until resumed.",
  ),
  containerResume: request(
    'berth.container.resume',
    'pool-manager',
    ['gateway'],
    ContainerResumeRequestSchema,
    ContainerViewSchema,
    'Thaw a paused container (its memory is taken from the host budget again; CAPACITY_EXHAUSTED when it no longer fits). With `auto` (a preview reaching it), only when its autoResume allows, else CONTAINER_PAUSED.',
  ),
  // w3-hosts
  hostDrain: request(
    'berth.hostctl.drain',
    'pool-manager',
    ['gateway'],
    HostDrainRequestSchema,
    HostHeartbeatSchema,
    'Stop (draining true) or resume placing new workspaces on this host; replies with its heartbeat. Host-addressed.',
  ),
  // w5-files-watch
  filesWatch: request(
    'berth.files.watch',
    'pool-manager',
    ['gateway'],
    FilesWatchRequestSchema,
    FilesWatchOpenedSchema,
    'Watch a directory of a claimed workspace (or resume a watch): its changes stream to the given inbox as `watch` messages, until the caller cancels, the workspace is deleted or paused.',
  ),
  // w5-templates-api: each host's image-builder builds, lists and removes owners' templates.
  templateBuild: request(
    'berth.template.build',
    'image-builder',
    ['gateway'],
    TemplateBuildRequestSchema,
    StreamOpenedSchema,
    "Check an owner's template Dockerfile and start building it on this host; output streams to the given inbox (see STREAMS), a tar context comes as upload bytes.",
  ),
  templateList: request(
    'berth.template.list',
    'image-builder',
    ['gateway'],
    TemplateListRequestSchema,
    TemplateHostListSchema,
    "The owner's templates built on this host, with the per-owner limit.",
  ),
  templateGet: request(
    'berth.template.get',
    'image-builder',
    ['gateway'],
    TemplateRefRequestSchema,
    TemplateViewSchema,
    "One of the owner's templates on this host (TEMPLATE_NOT_FOUND otherwise, another owner's included).",
  ),
  templateDelete: request(
    'berth.template.delete',
    'image-builder',
    ['gateway'],
    TemplateRefRequestSchema,
    TemplateRemovedSchema,
    "Untag one of the owner's templates on this host; its image goes with its last workspace.",
  ),
} as const;

export type SubjectKey = keyof typeof SUBJECTS;
export type RequestOf<K extends SubjectKey> = z.input<(typeof SUBJECTS)[K]['request']>;
export type ReplyOf<K extends SubjectKey> = z.infer<(typeof SUBJECTS)[K]['reply']>;

/** Lifecycle events, in the JetStream stream EVENTS. */
export const EVENTS = {
  stream: 'EVENTS',
  subjects: ['berth.evt.>'],
  /** Creates and updates the stream (JetStream API permissions are generated for it). */
  managedBy: 'pool-manager' as ServiceName,
  container: {
    pattern: 'berth.evt.container.*.*',
    publishers: ['pool-manager'] as readonly ServiceName[],
    /** Core NATS subscribers; stream consumers are listed in the stream's own permissions. */
    subscribers: [] as readonly ServiceName[],
    schema: ContainerEventSchema,
    subject: (id: string, kind: ContainerEventKind) => `berth.evt.container.${id}.${kind}`,
  },
  setup: {
    pattern: 'berth.evt.setup.*.status',
    publishers: ['pool-manager'] as readonly ServiceName[],
    subscribers: [] as readonly ServiceName[],
    schema: SetupEventSchema,
    subject: (id: string) => `berth.evt.setup.${id}.status`,
    /** Nats-Msg-Id, so a republished status is deduplicated by the stream. */
    msgId: (id: string, seq: number) => `setup-${id}-${seq}`,
  },
  usage: {
    pattern: 'berth.evt.usage.*.llm',
    publishers: ['egress'] as readonly ServiceName[],
    subscribers: [] as readonly ServiceName[],
    schema: LlmUsageEventSchema,
    subject: (id: string) => `berth.evt.usage.${id}.llm`,
  },
} as const;

/** The event families of EVENTS, for generated permissions and documents. */
export const EVENT_FAMILIES = [EVENTS.container, EVENTS.setup, EVENTS.usage] as const;

export const CATALOGUE_VERSION = CONTRACTS_VERSION;

// --- w3-hosts: many Docker hosts behind one API ---

/**
 * Subjects answered by one host only, for the host that owns the workspace (its id names it, see
 * hostOfWorkspace) or the host a create was placed on: `berth.<x>.<y>` is served on
 * `berth.host.<hostId>.<x>.<y>` by that host's service alone, so no request is broadcast and no
 * host answers for another's workspace. Lists (containers, volumes) are asked of every live host.
 */
export const HOST_ADDRESSED: ReadonlySet<SubjectKey> = new Set<SubjectKey>([
  'containerCreate',
  'containerGet',
  'containerUsage',
  'containerKeepalive',
  'containerList',
  'containerDelete',
  'containerExec',
  'containerExecStream',
  'terminalOpen',
  'ticketCreate',
  'ticketRedeem',
  'volumeList',
  'volumeDelete',
  'setupStart',
  'setupGet',
  'repoSync',
  'containerLlmKeyRevoke',
  'containerLlmKeyRotate',
  'hostDrain',
  'filesOp',
  'filesRead',
  'filesWrite',
  'previewLinkCreate',
  'previewLinkRevoke',
  'containerPause',
  'containerResume',
  'filesWatch',
  'templateBuild',
  'templateList',
  'templateGet',
  'templateDelete',
]);

export const isHostAddressed = (key: SubjectKey): boolean => HOST_ADDRESSED.has(key);

/** `berth.container.get` of host `h2` → `berth.host.h2.container.get`. */
export const hostSubject = (subject: string, hostId: string): string => `berth.host.${hostId}.${subject.slice('berth.'.length)}`;

/** The subject as NATS permissions name it: any host for host-addressed subjects. */
export const permissionSubject = (key: SubjectKey): string => (isHostAddressed(key) ? hostSubject(SUBJECTS[key].subject, '*') : SUBJECTS[key].subject);

/**
 * Each pool-manager's heartbeat (core NATS, not stored): every HEARTBEAT_INTERVAL_MS. A gateway
 * that hears none from a host for HOST_LOST_AFTER_MS counts it `lost`.
 */
export const HEARTBEATS = {
  pattern: 'berth.heartbeat.*',
  publishers: ['pool-manager'] as readonly ServiceName[],
  /** pool-managers watch each other's: the first to see a host lost tells its workspaces' `lost` events. */
  subscribers: ['gateway', 'pool-manager'] as readonly ServiceName[],
  schema: HostHeartbeatSchema,
  subject: (hostId: string) => `berth.heartbeat.${hostId}`,
} as const;
