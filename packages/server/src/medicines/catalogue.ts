/**
 * GET /api/medicines/products and GET /api/medicines/rules: the dm+d subset and the rules, for the
 * prescribing screen (which runs the same checks as the server, for instant feedback).
 */
import type { FastifyInstance } from 'fastify';
import type { ProductsResponse, RulesResponse } from '@steadfast/domain/api';
import { searchProducts } from '@steadfast/domain/medicines';
import { SteadfastError } from '@steadfast/domain';
import { requireRole } from '../auth/index.ts';
import type { NodeMedicines } from './knowledge.ts';

export function registerCatalogue(app: FastifyInstance, medicines: NodeMedicines): void {
  const readers = { preHandler: requireRole('clinician', 'practice-admin') };
  const subset = () => ({ source: medicines.subset.source, release: medicines.subset.release });

  app.get<{ Querystring: { q?: string; limit?: string } }>('/api/medicines/products', readers, async (request): Promise<ProductsResponse> => {
    const q = request.query.q ?? '';
    const limit = request.query.limit === undefined ? 20 : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new SteadfastError('invalid', `limit "${request.query.limit}" is not a whole number from 1 to 100`, { field: 'limit', hint: 'Leave it out for the first 20' });
    }
    return { products: searchProducts(q, medicines.products, limit), subset: subset() };
  });

  app.get('/api/medicines/rules', readers, async (): Promise<RulesResponse> => ({ rules: medicines.rules, products: [...medicines.products], subset: subset() }));
}
