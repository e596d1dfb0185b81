import {
  CacheInfo,
  CreateDeploymentRequest,
  CreateHostRequest,
  CreateHostResponse,
  Deployment,
  NotificationList,
  NotificationListQuery,
  RebootAnswer,
  RollbackRequest,
  DeploymentList,
  DeploymentListQuery,
  DeploymentWithLog,
  Health,
  Host,
  HostList,
  HostListQuery,
  HostName,
  LogPage,
  LogQuery,
} from '@flotilla/protocol';
import { z } from 'zod';
import type { BinaryCacheService } from '../cache/cache.service.js';
import type { DeploymentService } from '../deployments/deployment.service.js';
import type { RebootService } from '../hosts/reboot.service.js';
import type { NotificationService } from '../notifications/notification.service.js';
import type { HostService } from '../hosts/host.service.js';
import type { RouteTable } from './route.js';

export interface RouteServices {
  hosts: HostService;
  deployments: DeploymentService;
  reboots: RebootService;
  notifications: Pick<NotificationService, 'list'>;
  health: () => Promise<{ body: Health; healthy: boolean }>;
  cache: Pick<BinaryCacheService, 'info'>;
}

const NameParams = z.object({ name: HostName });
const IdParams = z.object({ id: z.string().min(1).max(64) });

/** Every API route: validate, call one service, return its result. */
export function registerRoutes(routes: RouteTable, services: RouteServices): void {
  const { hosts, deployments, reboots, cache } = services;
  routes.add({
    method: 'GET',
    url: '/api/v1/notifications',
    tag: 'notifications',
    summary: 'Recent notifications with the state of each delivery, newest first',
    query: NotificationListQuery,
    response: NotificationList,
    handler: ({ query }) => services.notifications.list(query.limit),
  });

  routes.add({
    method: 'GET',
    url: '/api/v1/cache',
    tag: 'cache',
    summary: "The binary cache's public signing key, path and push target",
    response: CacheInfo,
    handler: () => Promise.resolve(cache.info()),
  });

  routes.add({
    method: 'GET',
    url: '/api/v1/hosts',
    tag: 'hosts',
    summary: 'List hosts with live status and latest facts (paginated by name)',
    query: HostListQuery,
    response: HostList,
    handler: ({ query }) => hosts.list(query),
  });
  routes.add({
    method: 'POST',
    url: '/api/v1/hosts',
    tag: 'hosts',
    summary: 'Register a host; returns its agent token once',
    body: CreateHostRequest,
    response: CreateHostResponse,
    status: 201,
    handler: ({ body, actor }) => hosts.register(body, actor),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/hosts/:name',
    tag: 'hosts',
    summary: 'Get one host',
    params: NameParams,
    response: Host,
    handler: ({ params }) => hosts.get(params.name),
  });
  routes.add({
    method: 'POST',
    url: '/api/v1/hosts/:name/rollback',
    tag: 'hosts',
    summary: 'Roll a host back to an earlier generation (default: the one before the current)',
    params: NameParams,
    body: RollbackRequest,
    response: Deployment,
    status: 201,
    handler: ({ params, body, actor }) => deployments.rollback(params.name, body, actor),
  });
  routes.add({
    method: 'POST',
    url: '/api/v1/hosts/:name/reboot',
    tag: 'hosts',
    summary: 'Reboot a managed host; the agent reports back after the boot',
    params: NameParams,
    response: RebootAnswer,
    status: 202,
    handler: ({ params, actor }) => reboots.request(params.name, actor),
  });
  routes.add({
    method: 'POST',
    url: '/api/v1/deployments',
    tag: 'deployments',
    summary: 'Deploy a store path to a host',
    body: CreateDeploymentRequest,
    response: Deployment,
    status: 201,
    handler: ({ body, actor }) => deployments.create(body, actor),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/deployments',
    tag: 'deployments',
    summary: 'List deployments, newest first',
    query: DeploymentListQuery,
    response: DeploymentList,
    handler: ({ query }) => deployments.list(query),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/deployments/:id',
    tag: 'deployments',
    summary: 'Get a deployment with its status and log',
    params: IdParams,
    response: DeploymentWithLog,
    handler: ({ params }) => deployments.get(params.id),
  });
  routes.add({
    method: 'GET',
    url: '/api/v1/deployments/:id/log',
    tag: 'deployments',
    summary: 'Read a deployment log after a sequence number (for following it live)',
    params: IdParams,
    query: LogQuery,
    response: LogPage,
    handler: ({ params, query }) => deployments.readLog(params.id, query),
  });
}
