import { TicketReplySchema } from '@berth/contracts';
import type { FastifyPluginAsync } from 'fastify';
import { API_ERRORS, ID_PARAMS, errorResponses, okResponse } from '../openapi.js';
import { callOptions, containerIdOf, type RouteDeps } from './common.js';

export const ticketRoutes: FastifyPluginAsync<RouteDeps> = async (app, { backend, requestTimeoutMs }) => {
  app.post(
    '/containers/:id/tickets',
    {
      schema: {
        operationId: 'createTicket',
        tags: ['containers'],
        summary: 'Get a single-use ticket for a terminal or stream',
        description:
          "For browsers, which cannot send the bearer token on a WebSocket or EventSource: the ticket opens this container's terminal or stream once, within 30 s. It is not the API token and is stored only hashed.",
        params: ID_PARAMS,
        response: { 201: okResponse(TicketReplySchema, 'The ticket and when it expires'), ...errorResponses('CONTAINER_NOT_FOUND', ...API_ERRORS) },
      },
    },
    async (req, reply) => {
      const id = containerIdOf(req.params);
      const ticket = await backend.request('ticketCreate', { id, owner: req.owner }, callOptions(req, requestTimeoutMs));
      return reply.code(201).send(ticket);
    },
  );
};
