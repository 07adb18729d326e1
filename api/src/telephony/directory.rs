//! Who is calling: caller number → customer.

use domain::ids::CustomerId;
use futures::future::BoxFuture;

/// Finds the customer a caller number belongs to. Lookups must be quick: the dispatcher waits
/// for the answer before queueing the call. A failed lookup is "no customer" (the call is
/// linked later when the customer is registered, PRODUCT §3).
pub trait CustomerDirectory: Send + Sync {
    fn find_by_number<'a>(&'a self, caller_number: &'a str) -> BoxFuture<'a, Option<CustomerId>>;
}

/// A directory that knows no customer: every call is queued unlinked. Stands in until the
/// customers read model offers a lookup by number.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCustomerDirectory;

impl CustomerDirectory for NoCustomerDirectory {
    fn find_by_number<'a>(&'a self, _caller_number: &'a str) -> BoxFuture<'a, Option<CustomerId>> {
        Box::pin(async { None })
    }
}
