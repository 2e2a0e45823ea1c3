/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query CustomerByPhone($phone: String!) {\n  customerByPhone(phone: $phone) {\n    id\n    name\n    phone\n    email\n    tier\n    orderCount\n    lifetimeValue\n  }\n}": typeof types.CustomerByPhoneDocument,
    "query CustomerOrders($customerId: ID!, $status: OrderStatus, $first: Int = 20, $after: String) {\n  customer(id: $customerId) {\n    id\n    name\n    tier\n    orders(status: $status, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          ...OrderSummary\n        }\n      }\n    }\n  }\n}": typeof types.CustomerOrdersDocument,
    "query Dashboard($from: DateTime!, $to: DateTime!, $interval: StatsInterval = DAY, $lowStockFirst: Int = 10) {\n  orderStats(from: $from, to: $to, interval: $interval) {\n    start\n    orderCount\n    revenue\n  }\n  lowStock: products(filter: {lowStock: true}, first: $lowStockFirst) {\n    totalCount\n    edges {\n      node {\n        ...ProductSummary\n        onHand\n        reorderLevel\n        unitsSold(from: $from, to: $to)\n      }\n    }\n  }\n}": typeof types.DashboardDocument,
    "fragment PageInfoFields on PageInfo {\n  hasNextPage\n  endCursor\n}\n\nfragment ProductSummary on Product {\n  id\n  sku\n  name\n  category\n  unitPrice\n  available\n  lowStock\n}\n\nfragment OrderSummary on Order {\n  id\n  number\n  status\n  total\n  createdAt\n}": typeof types.PageInfoFieldsFragmentDoc,
    "subscription LiveStock($productIds: [ID!]!) {\n  stockChanged(productIds: $productIds) {\n    streamId\n    available\n    product {\n      id\n      sku\n      available\n    }\n    movement {\n      reason\n      delta\n    }\n  }\n}\n\nsubscription OrderProgress($orderId: ID!) {\n  orderStatusChanged(orderId: $orderId) {\n    streamId\n    status\n    previousStatus\n    order {\n      id\n      status\n    }\n  }\n}\n\nsubscription LowStockAlerts($threshold: Int) {\n  lowStock(threshold: $threshold) {\n    streamId\n    available\n    product {\n      ...ProductSummary\n      reorderLevel\n    }\n  }\n}": typeof types.LiveStockDocument,
    "query Me {\n  me {\n    id\n    email\n    name\n    role\n    active\n  }\n}": typeof types.MeDocument,
    "query OrderDetail($id: ID!) {\n  order(id: $id) {\n    ...OrderSummary\n    updatedAt\n    createdBy {\n      id\n      name\n    }\n    customer {\n      id\n      name\n      tier\n    }\n    items {\n      quantity\n      unitPrice\n      lineTotal\n      product {\n        id\n        sku\n        name\n      }\n    }\n  }\n}": typeof types.OrderDetailDocument,
    "query OrderHistory($filter: OrderFilter, $first: Int = 20, $after: String) {\n  orders(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        ...OrderSummary\n        customer {\n          id\n          name\n        }\n        items {\n          quantity\n          product {\n            id\n            sku\n            name\n          }\n        }\n      }\n    }\n  }\n}": typeof types.OrderHistoryDocument,
    "mutation PlaceOrder($input: PlaceOrderInput!) {\n  placeOrder(input: $input) {\n    ...OrderSummary\n    customer {\n      id\n      name\n    }\n    items {\n      quantity\n      unitPrice\n      lineTotal\n      product {\n        id\n        sku\n        available\n      }\n    }\n  }\n}": typeof types.PlaceOrderDocument,
    "query ProductCatalogue($filter: ProductFilter, $first: Int = 20, $after: String) {\n  products(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        ...ProductSummary\n      }\n    }\n  }\n}": typeof types.ProductCatalogueDocument,
    "query ProductDetail($id: ID!, $movements: Int = 10) {\n  product(id: $id) {\n    ...ProductSummary\n    description\n    onHand\n    reserved\n    reorderLevel\n    unitsSold\n    priceHistory {\n      unitPrice\n      changedAt\n    }\n    movements(first: $movements) {\n      totalCount\n      edges {\n        node {\n          id\n          delta\n          reason\n          note\n          createdAt\n        }\n      }\n    }\n  }\n}": typeof types.ProductDetailDocument,
    "mutation SignIn($email: String!, $password: String!) {\n  login(email: $email, password: $password) {\n    accessToken\n    refreshToken\n    expiresAt\n  }\n}\n\nmutation RefreshSession($refreshToken: String!) {\n  refreshSession(refreshToken: $refreshToken) {\n    accessToken\n    refreshToken\n    expiresAt\n  }\n}\n\nmutation SignOut($refreshToken: String!) {\n  logout(refreshToken: $refreshToken)\n}": typeof types.SignInDocument,
    "query StockBySku($sku: String!) {\n  productBySku(sku: $sku) {\n    id\n    sku\n    name\n    onHand\n    reserved\n    available\n    reorderLevel\n    lowStock\n    updatedAt\n  }\n}": typeof types.StockBySkuDocument,
};
const documents: Documents = {
    "query CustomerByPhone($phone: String!) {\n  customerByPhone(phone: $phone) {\n    id\n    name\n    phone\n    email\n    tier\n    orderCount\n    lifetimeValue\n  }\n}": types.CustomerByPhoneDocument,
    "query CustomerOrders($customerId: ID!, $status: OrderStatus, $first: Int = 20, $after: String) {\n  customer(id: $customerId) {\n    id\n    name\n    tier\n    orders(status: $status, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          ...OrderSummary\n        }\n      }\n    }\n  }\n}": types.CustomerOrdersDocument,
    "query Dashboard($from: DateTime!, $to: DateTime!, $interval: StatsInterval = DAY, $lowStockFirst: Int = 10) {\n  orderStats(from: $from, to: $to, interval: $interval) {\n    start\n    orderCount\n    revenue\n  }\n  lowStock: products(filter: {lowStock: true}, first: $lowStockFirst) {\n    totalCount\n    edges {\n      node {\n        ...ProductSummary\n        onHand\n        reorderLevel\n        unitsSold(from: $from, to: $to)\n      }\n    }\n  }\n}": types.DashboardDocument,
    "fragment PageInfoFields on PageInfo {\n  hasNextPage\n  endCursor\n}\n\nfragment ProductSummary on Product {\n  id\n  sku\n  name\n  category\n  unitPrice\n  available\n  lowStock\n}\n\nfragment OrderSummary on Order {\n  id\n  number\n  status\n  total\n  createdAt\n}": types.PageInfoFieldsFragmentDoc,
    "subscription LiveStock($productIds: [ID!]!) {\n  stockChanged(productIds: $productIds) {\n    streamId\n    available\n    product {\n      id\n      sku\n      available\n    }\n    movement {\n      reason\n      delta\n    }\n  }\n}\n\nsubscription OrderProgress($orderId: ID!) {\n  orderStatusChanged(orderId: $orderId) {\n    streamId\n    status\n    previousStatus\n    order {\n      id\n      status\n    }\n  }\n}\n\nsubscription LowStockAlerts($threshold: Int) {\n  lowStock(threshold: $threshold) {\n    streamId\n    available\n    product {\n      ...ProductSummary\n      reorderLevel\n    }\n  }\n}": types.LiveStockDocument,
    "query Me {\n  me {\n    id\n    email\n    name\n    role\n    active\n  }\n}": types.MeDocument,
    "query OrderDetail($id: ID!) {\n  order(id: $id) {\n    ...OrderSummary\n    updatedAt\n    createdBy {\n      id\n      name\n    }\n    customer {\n      id\n      name\n      tier\n    }\n    items {\n      quantity\n      unitPrice\n      lineTotal\n      product {\n        id\n        sku\n        name\n      }\n    }\n  }\n}": types.OrderDetailDocument,
    "query OrderHistory($filter: OrderFilter, $first: Int = 20, $after: String) {\n  orders(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        ...OrderSummary\n        customer {\n          id\n          name\n        }\n        items {\n          quantity\n          product {\n            id\n            sku\n            name\n          }\n        }\n      }\n    }\n  }\n}": types.OrderHistoryDocument,
    "mutation PlaceOrder($input: PlaceOrderInput!) {\n  placeOrder(input: $input) {\n    ...OrderSummary\n    customer {\n      id\n      name\n    }\n    items {\n      quantity\n      unitPrice\n      lineTotal\n      product {\n        id\n        sku\n        available\n      }\n    }\n  }\n}": types.PlaceOrderDocument,
    "query ProductCatalogue($filter: ProductFilter, $first: Int = 20, $after: String) {\n  products(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        ...ProductSummary\n      }\n    }\n  }\n}": types.ProductCatalogueDocument,
    "query ProductDetail($id: ID!, $movements: Int = 10) {\n  product(id: $id) {\n    ...ProductSummary\n    description\n    onHand\n    reserved\n    reorderLevel\n    unitsSold\n    priceHistory {\n      unitPrice\n      changedAt\n    }\n    movements(first: $movements) {\n      totalCount\n      edges {\n        node {\n          id\n          delta\n          reason\n          note\n          createdAt\n        }\n      }\n    }\n  }\n}": types.ProductDetailDocument,
    "mutation SignIn($email: String!, $password: String!) {\n  login(email: $email, password: $password) {\n    accessToken\n    refreshToken\n    expiresAt\n  }\n}\n\nmutation RefreshSession($refreshToken: String!) {\n  refreshSession(refreshToken: $refreshToken) {\n    accessToken\n    refreshToken\n    expiresAt\n  }\n}\n\nmutation SignOut($refreshToken: String!) {\n  logout(refreshToken: $refreshToken)\n}": types.SignInDocument,
    "query StockBySku($sku: String!) {\n  productBySku(sku: $sku) {\n    id\n    sku\n    name\n    onHand\n    reserved\n    available\n    reorderLevel\n    lowStock\n    updatedAt\n  }\n}": types.StockBySkuDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query CustomerByPhone($phone: String!) {\n  customerByPhone(phone: $phone) {\n    id\n    name\n    phone\n    email\n    tier\n    orderCount\n    lifetimeValue\n  }\n}"): (typeof documents)["query CustomerByPhone($phone: String!) {\n  customerByPhone(phone: $phone) {\n    id\n    name\n    phone\n    email\n    tier\n    orderCount\n    lifetimeValue\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query CustomerOrders($customerId: ID!, $status: OrderStatus, $first: Int = 20, $after: String) {\n  customer(id: $customerId) {\n    id\n    name\n    tier\n    orders(status: $status, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          ...OrderSummary\n        }\n      }\n    }\n  }\n}"): (typeof documents)["query CustomerOrders($customerId: ID!, $status: OrderStatus, $first: Int = 20, $after: String) {\n  customer(id: $customerId) {\n    id\n    name\n    tier\n    orders(status: $status, first: $first, after: $after) {\n      totalCount\n      pageInfo {\n        ...PageInfoFields\n      }\n      edges {\n        cursor\n        node {\n          ...OrderSummary\n        }\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Dashboard($from: DateTime!, $to: DateTime!, $interval: StatsInterval = DAY, $lowStockFirst: Int = 10) {\n  orderStats(from: $from, to: $to, interval: $interval) {\n    start\n    orderCount\n    revenue\n  }\n  lowStock: products(filter: {lowStock: true}, first: $lowStockFirst) {\n    totalCount\n    edges {\n      node {\n        ...ProductSummary\n        onHand\n        reorderLevel\n        unitsSold(from: $from, to: $to)\n      }\n    }\n  }\n}"): (typeof documents)["query Dashboard($from: DateTime!, $to: DateTime!, $interval: StatsInterval = DAY, $lowStockFirst: Int = 10) {\n  orderStats(from: $from, to: $to, interval: $interval) {\n    start\n    orderCount\n    revenue\n  }\n  lowStock: products(filter: {lowStock: true}, first: $lowStockFirst) {\n    totalCount\n    edges {\n      node {\n        ...ProductSummary\n        onHand\n        reorderLevel\n        unitsSold(from: $from, to: $to)\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment PageInfoFields on PageInfo {\n  hasNextPage\n  endCursor\n}\n\nfragment ProductSummary on Product {\n  id\n  sku\n  name\n  category\n  unitPrice\n  available\n  lowStock\n}\n\nfragment OrderSummary on Order {\n  id\n  number\n  status\n  total\n  createdAt\n}"): (typeof documents)["fragment PageInfoFields on PageInfo {\n  hasNextPage\n  endCursor\n}\n\nfragment ProductSummary on Product {\n  id\n  sku\n  name\n  category\n  unitPrice\n  available\n  lowStock\n}\n\nfragment OrderSummary on Order {\n  id\n  number\n  status\n  total\n  createdAt\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription LiveStock($productIds: [ID!]!) {\n  stockChanged(productIds: $productIds) {\n    streamId\n    available\n    product {\n      id\n      sku\n      available\n    }\n    movement {\n      reason\n      delta\n    }\n  }\n}\n\nsubscription OrderProgress($orderId: ID!) {\n  orderStatusChanged(orderId: $orderId) {\n    streamId\n    status\n    previousStatus\n    order {\n      id\n      status\n    }\n  }\n}\n\nsubscription LowStockAlerts($threshold: Int) {\n  lowStock(threshold: $threshold) {\n    streamId\n    available\n    product {\n      ...ProductSummary\n      reorderLevel\n    }\n  }\n}"): (typeof documents)["subscription LiveStock($productIds: [ID!]!) {\n  stockChanged(productIds: $productIds) {\n    streamId\n    available\n    product {\n      id\n      sku\n      available\n    }\n    movement {\n      reason\n      delta\n    }\n  }\n}\n\nsubscription OrderProgress($orderId: ID!) {\n  orderStatusChanged(orderId: $orderId) {\n    streamId\n    status\n    previousStatus\n    order {\n      id\n      status\n    }\n  }\n}\n\nsubscription LowStockAlerts($threshold: Int) {\n  lowStock(threshold: $threshold) {\n    streamId\n    available\n    product {\n      ...ProductSummary\n      reorderLevel\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Me {\n  me {\n    id\n    email\n    name\n    role\n    active\n  }\n}"): (typeof documents)["query Me {\n  me {\n    id\n    email\n    name\n    role\n    active\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query OrderDetail($id: ID!) {\n  order(id: $id) {\n    ...OrderSummary\n    updatedAt\n    createdBy {\n      id\n      name\n    }\n    customer {\n      id\n      name\n      tier\n    }\n    items {\n      quantity\n      unitPrice\n      lineTotal\n      product {\n        id\n        sku\n        name\n      }\n    }\n  }\n}"): (typeof documents)["query OrderDetail($id: ID!) {\n  order(id: $id) {\n    ...OrderSummary\n    updatedAt\n    createdBy {\n      id\n      name\n    }\n    customer {\n      id\n      name\n      tier\n    }\n    items {\n      quantity\n      unitPrice\n      lineTotal\n      product {\n        id\n        sku\n        name\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query OrderHistory($filter: OrderFilter, $first: Int = 20, $after: String) {\n  orders(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        ...OrderSummary\n        customer {\n          id\n          name\n        }\n        items {\n          quantity\n          product {\n            id\n            sku\n            name\n          }\n        }\n      }\n    }\n  }\n}"): (typeof documents)["query OrderHistory($filter: OrderFilter, $first: Int = 20, $after: String) {\n  orders(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        ...OrderSummary\n        customer {\n          id\n          name\n        }\n        items {\n          quantity\n          product {\n            id\n            sku\n            name\n          }\n        }\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation PlaceOrder($input: PlaceOrderInput!) {\n  placeOrder(input: $input) {\n    ...OrderSummary\n    customer {\n      id\n      name\n    }\n    items {\n      quantity\n      unitPrice\n      lineTotal\n      product {\n        id\n        sku\n        available\n      }\n    }\n  }\n}"): (typeof documents)["mutation PlaceOrder($input: PlaceOrderInput!) {\n  placeOrder(input: $input) {\n    ...OrderSummary\n    customer {\n      id\n      name\n    }\n    items {\n      quantity\n      unitPrice\n      lineTotal\n      product {\n        id\n        sku\n        available\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ProductCatalogue($filter: ProductFilter, $first: Int = 20, $after: String) {\n  products(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        ...ProductSummary\n      }\n    }\n  }\n}"): (typeof documents)["query ProductCatalogue($filter: ProductFilter, $first: Int = 20, $after: String) {\n  products(filter: $filter, first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      ...PageInfoFields\n    }\n    edges {\n      cursor\n      node {\n        ...ProductSummary\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ProductDetail($id: ID!, $movements: Int = 10) {\n  product(id: $id) {\n    ...ProductSummary\n    description\n    onHand\n    reserved\n    reorderLevel\n    unitsSold\n    priceHistory {\n      unitPrice\n      changedAt\n    }\n    movements(first: $movements) {\n      totalCount\n      edges {\n        node {\n          id\n          delta\n          reason\n          note\n          createdAt\n        }\n      }\n    }\n  }\n}"): (typeof documents)["query ProductDetail($id: ID!, $movements: Int = 10) {\n  product(id: $id) {\n    ...ProductSummary\n    description\n    onHand\n    reserved\n    reorderLevel\n    unitsSold\n    priceHistory {\n      unitPrice\n      changedAt\n    }\n    movements(first: $movements) {\n      totalCount\n      edges {\n        node {\n          id\n          delta\n          reason\n          note\n          createdAt\n        }\n      }\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation SignIn($email: String!, $password: String!) {\n  login(email: $email, password: $password) {\n    accessToken\n    refreshToken\n    expiresAt\n  }\n}\n\nmutation RefreshSession($refreshToken: String!) {\n  refreshSession(refreshToken: $refreshToken) {\n    accessToken\n    refreshToken\n    expiresAt\n  }\n}\n\nmutation SignOut($refreshToken: String!) {\n  logout(refreshToken: $refreshToken)\n}"): (typeof documents)["mutation SignIn($email: String!, $password: String!) {\n  login(email: $email, password: $password) {\n    accessToken\n    refreshToken\n    expiresAt\n  }\n}\n\nmutation RefreshSession($refreshToken: String!) {\n  refreshSession(refreshToken: $refreshToken) {\n    accessToken\n    refreshToken\n    expiresAt\n  }\n}\n\nmutation SignOut($refreshToken: String!) {\n  logout(refreshToken: $refreshToken)\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query StockBySku($sku: String!) {\n  productBySku(sku: $sku) {\n    id\n    sku\n    name\n    onHand\n    reserved\n    available\n    reorderLevel\n    lowStock\n    updatedAt\n  }\n}"): (typeof documents)["query StockBySku($sku: String!) {\n  productBySku(sku: $sku) {\n    id\n    sku\n    name\n    onHand\n    reserved\n    available\n    reorderLevel\n    lowStock\n    updatedAt\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;