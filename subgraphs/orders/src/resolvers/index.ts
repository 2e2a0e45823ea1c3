import { DateTimeScalar, DecimalScalar } from '@stockgraph/graphql-kit';
import type { Resolvers } from '../generated/resolvers.js';
import { Customer } from './Customer.js';
import { Order } from './Order.js';
import { OrderConnection } from './OrderConnection.js';
import { OrderItem } from './OrderItem.js';
import { Product } from './Product.js';
import { Mutation } from './Mutation.js';
import { RejectedProduct } from './OrderRejection.js';
import { Query } from './Query.js';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Decimal: DecimalScalar,
  Query,
  Mutation,
  RejectedProduct,
  Order,
  OrderItem,
  OrderConnection,
  Customer,
  Product,
};
