//! Customers: `customer(id)`, `registerCustomer`, `updateCustomer`, `eraseCustomer`.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};

use domain::customer::{Customer, CustomerCommand};
use domain::ids::CustomerId;
use domain::values::{EmailAddress, PersonName, PhoneNumber};
use journal::Committed;
use projections::readmodels::customers::{self as customer_model, CustomerRow};

use super::common::{read_error, wait_for_aggregate};
use super::context::{execute_as, metadata, parse_id, require_admin, require_worker, state};
use super::error::ApiError;
use crate::claims::{self, with_claims, ClaimKind};
use crate::transport::state::AppState;

/// Longest notes and avatar URL accepted before the domain's own checks (the body limit is the
/// outer bound).
const MAX_NOTES_CHARS: usize = 10_000;
const MAX_PHONES: usize = 20;

/// A customer. After erasure only `id`, `version` and `erased` remain.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "Customer")]
pub struct CustomerView {
    pub id: ID,
    pub version: i64,
    pub erased: bool,
    pub name: Option<String>,
    /// E.164, the first is the main number.
    pub phones: Vec<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
    pub avatar_url: Option<String>,
}

impl CustomerView {
    pub fn from_aggregate(id: CustomerId, version: i64, customer: &Customer) -> Self {
        let details = customer.details();
        Self {
            id: ID(id.to_string()),
            version,
            erased: customer.is_erased(),
            name: details.map(|details| details.name.to_string()),
            phones: details
                .map(|details| details.phones.iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            email: details
                .and_then(|details| details.email.as_ref())
                .map(ToString::to_string),
            notes: details.map(|details| details.notes.clone()),
            avatar_url: details.and_then(|details| details.avatar_url.clone()),
        }
    }

    fn from_committed(id: CustomerId, committed: &Committed<Customer>) -> Self {
        Self::from_aggregate(id, committed.version, &committed.aggregate)
    }

    /// A row of the `customers` read model with its numbers (main number first).
    pub fn from_row(row: CustomerRow, phones: Vec<String>) -> Self {
        Self {
            id: ID(row.customer_id.to_string()),
            version: row.version,
            erased: row.erased,
            name: row.name,
            phones,
            email: row.email,
            notes: row.notes,
            avatar_url: row.avatar_url,
        }
    }
}

/// The customer `id` as `customer(id)` shows them, from the `customers` read model once it
/// holds every event of that customer (read-your-writes); `None` when there is none.
pub async fn read_customer(
    state: &AppState,
    id: CustomerId,
) -> Result<Option<CustomerView>, ApiError> {
    wait_for_aggregate(state, "customers", "customer", id).await?;
    let Some(row) = customer_model::get(&state.pool, id.as_uuid())
        .await
        .map_err(read_error)?
    else {
        return Ok(None);
    };
    let phones = customer_model::phones(&state.pool, row.customer_id)
        .await
        .map_err(read_error)?;
    Ok(Some(CustomerView::from_row(row, phones)))
}

pub async fn load_customer(
    context: &Context<'_>,
    id: CustomerId,
) -> Result<(Customer, i64), ApiError> {
    let (customer, version) = state(context)?
        .store
        .load_aggregate::<Customer>(&id.to_string())
        .await?;
    if !customer.is_registered() {
        return Err(ApiError::NotFound("customer"));
    }
    Ok((customer, version))
}

fn parse_phones(inputs: &[String], country: &str) -> Result<Vec<PhoneNumber>, ApiError> {
    if inputs.len() > MAX_PHONES {
        return Err(ApiError::validation("phones", "at most 20 numbers"));
    }
    inputs
        .iter()
        .map(|input| {
            PhoneNumber::parse(input, country)
                .map_err(|error| ApiError::from(error).for_field("phones"))
        })
        .collect()
}

fn check_notes(notes: &str) -> Result<(), ApiError> {
    if notes.chars().count() > MAX_NOTES_CHARS {
        return Err(ApiError::validation(
            "notes",
            "must be at most 10000 characters",
        ));
    }
    Ok(())
}

fn phone_claims(phones: &[PhoneNumber]) -> Vec<(ClaimKind, String)> {
    phones
        .iter()
        .map(|phone| (ClaimKind::CustomerPhone, phone.to_string()))
        .collect()
}

#[derive(InputObject)]
pub struct RegisterCustomerInput {
    pub name: String,
    /// At least one; national numbers take the server's default country code.
    pub phones: Vec<String>,
    pub email: Option<String>,
    #[graphql(default)]
    pub notes: String,
    pub avatar_url: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateCustomerInput {
    pub name: Option<String>,
    /// Replaces the whole list.
    pub phones: Option<Vec<String>>,
    pub email: Option<String>,
    #[graphql(default)]
    pub clear_email: bool,
    pub notes: Option<String>,
    pub avatar_url: Option<String>,
    #[graphql(default)]
    pub clear_avatar_url: bool,
}

#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// A customer (any worker).
    async fn customer(&self, context: &Context<'_>, id: ID) -> Result<CustomerView, ApiError> {
        require_worker(context)?;
        let id: CustomerId = parse_id(&id, "id")?;
        read_customer(state(context)?, id)
            .await?
            .ok_or(ApiError::NotFound("customer"))
    }
}

#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    /// Registers a customer (any worker). Phone numbers are unique across customers.
    async fn register_customer(
        &self,
        context: &Context<'_>,
        input: RegisterCustomerInput,
    ) -> Result<CustomerView, ApiError> {
        let me = require_worker(context)?;
        let state = state(context)?;
        let country = state.auth.config.default_country_code.clone();
        check_notes(&input.notes)?;
        let command = CustomerCommand::Register {
            name: PersonName::parse(&input.name)?,
            phones: parse_phones(&input.phones, &country)?,
            email: input
                .email
                .as_deref()
                .map(EmailAddress::parse)
                .transpose()?,
            notes: input.notes,
            avatar_url: input.avatar_url,
            at: crate::platform::clock::now(),
        };
        let CustomerCommand::Register { phones, .. } = &command else {
            return Err(ApiError::internal(anyhow::anyhow!(
                "not a register command"
            )));
        };
        let wanted = phone_claims(phones);
        let id = CustomerId::new();
        let owner = id.to_string();
        let metadata = metadata(context, &me);
        let committed = with_claims::<_, ApiError, _>(&state.pool, &owner, &wanted, async {
            Ok(state
                .store
                .execute::<Customer>(&owner, command, &(), &metadata, Some(0))
                .await?)
        })
        .await?;
        if let Some(position) = committed.last_position() {
            super::common::wait_for_read_models(state, &["customers"], position).await;
        }
        Ok(CustomerView::from_committed(id, &committed))
    }

    /// Changes a customer's details (any worker). `phones` replaces the whole list.
    async fn update_customer(
        &self,
        context: &Context<'_>,
        id: ID,
        input: UpdateCustomerInput,
        expected_version: Option<i64>,
    ) -> Result<CustomerView, ApiError> {
        let me = require_worker(context)?;
        let id: CustomerId = parse_id(&id, "id")?;
        let state = state(context)?;
        let country = state.auth.config.default_country_code.clone();
        let phones = input
            .phones
            .as_deref()
            .map(|phones| parse_phones(phones, &country))
            .transpose()?;
        if let Some(notes) = &input.notes {
            check_notes(notes)?;
        }
        let email = match (input.email.as_deref(), input.clear_email) {
            (Some(_), true) => {
                return Err(ApiError::validation(
                    "clearEmail",
                    "cannot be combined with email",
                ))
            }
            (Some(text), false) => Some(Some(EmailAddress::parse(text)?)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        let avatar_url = match (input.avatar_url, input.clear_avatar_url) {
            (Some(_), true) => {
                return Err(ApiError::validation(
                    "clearAvatarUrl",
                    "cannot be combined with avatarUrl",
                ))
            }
            (Some(url), false) => Some(Some(url)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        let (before, _) = load_customer(context, id).await?;
        let old_phones: Vec<PhoneNumber> = before
            .details()
            .map(|details| details.phones.clone())
            .unwrap_or_default();
        let wanted = phones.as_deref().map(phone_claims).unwrap_or_default();
        let new_phones = phones.clone();
        let command = CustomerCommand::Update {
            name: input.name.as_deref().map(PersonName::parse).transpose()?,
            phones,
            email,
            notes: input.notes,
            avatar_url,
            at: crate::platform::clock::now(),
        };
        let owner = id.to_string();
        let metadata = metadata(context, &me);
        let committed = with_claims::<_, ApiError, _>(&state.pool, &owner, &wanted, async {
            Ok(state
                .store
                .execute::<Customer>(&owner, command, &(), &metadata, expected_version)
                .await?)
        })
        .await?;
        if let Some(new_phones) = new_phones {
            for old in old_phones.iter().filter(|old| !new_phones.contains(old)) {
                claims::release(&state.pool, ClaimKind::CustomerPhone, &owner, old.as_str())
                    .await?;
            }
        }
        if let Some(position) = committed.last_position() {
            super::common::wait_for_read_models(state, &["customers"], position).await;
        }
        Ok(CustomerView::from_committed(id, &committed))
    }

    /// Erases a customer's personal data (admin); the anonymised history stays and the phone
    /// numbers are freed.
    async fn erase_customer(
        &self,
        context: &Context<'_>,
        id: ID,
        expected_version: Option<i64>,
    ) -> Result<CustomerView, ApiError> {
        let me = require_admin(context)?;
        let id: CustomerId = parse_id(&id, "id")?;
        let state = state(context)?;
        let (before, _) = load_customer(context, id).await?;
        let owner = id.to_string();
        let command = CustomerCommand::Erase {
            at: crate::platform::clock::now(),
        };
        let committed =
            execute_as::<Customer>(context, &me, &owner, command, expected_version).await?;
        for phone in before
            .details()
            .map(|d| d.phones.clone())
            .unwrap_or_default()
        {
            claims::release(
                &state.pool,
                ClaimKind::CustomerPhone,
                &owner,
                phone.as_str(),
            )
            .await?;
        }
        if let Some(position) = committed.last_position() {
            super::common::wait_for_read_models(state, &["customers"], position).await;
        }
        Ok(CustomerView::from_committed(id, &committed))
    }
}
