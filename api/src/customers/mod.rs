//! Customers (PRODUCT §3) beyond the GraphQL mutations: the process manager that links the
//! calls of a number to the customer it is given to later ([`link_calls`]).

pub mod link_calls;
