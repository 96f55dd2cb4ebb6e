import type { AttachOptions } from '../commands/attach.js';
import type { CaptureOptions } from '../commands/capture.js';
import type { CleanupOptions } from '../commands/cleanup.js';
import type { CollectOptions } from '../commands/collect.js';
import type { SessionsOptions } from '../commands/sessions.js';
import type { DebugOptions } from '../debug/request.js';
import type { ListOptions } from '../commands/list.js';
import type { PresetsOptions } from '../commands/presets.js';
import type { PermissionsOptions } from '../commands/permissions.js';

/** What the command line asked for; main.ts runs it. Parsing never runs a command. */
export type ParsedCommand =
  | { command: 'debug'; options: DebugOptions }
  | { command: 'presets'; options: PresetsOptions }
  | { command: 'list'; options: ListOptions }
  | { command: 'attach'; options: AttachOptions }
  | { command: 'capture'; options: CaptureOptions }
  | { command: 'collect'; options: CollectOptions }
  | { command: 'cleanup'; options: CleanupOptions }
  | { command: 'sessions'; options: SessionsOptions }
  | { command: 'permissions'; options: PermissionsOptions }
  | { command: 'done'; exitCode: number };
