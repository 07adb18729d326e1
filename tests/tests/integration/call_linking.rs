//! Calls are linked to a customer registered later (issue 14 §4): a caller who phoned before
//! being a customer shows under `calls(customerId:)` once their number is registered or added,
//! through the real server, the simulated Asterisk and the call-linker process manager.

use domain::call::CallState;
use serde_json::json;
use tests::graphql::{gql, register_customer, unique_phone};
use tests::telephony::{fast_queue, Telephony};

const CUSTOMER_CALLS: &str =
    "query($c: ID) { calls(customerId: $c, first: 10) { edges { node { id customerId } } } }";

/// The ids of the calls `calls(customerId:)` lists for `customer`.
async fn calls_of(tel: &Telephony, customer: &str) -> Vec<String> {
    let token = tel.admin().await.access_token.clone();
    let answer = gql(
        &tel.app,
        Some(&token),
        CUSTOMER_CALLS,
        json!({"c": customer}),
    )
    .await;
    answer.data("calls")["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn wait_listed(tel: &Telephony, customer: &str, expected: &[String]) {
    let mut expected = expected.to_vec();
    expected.sort();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let mut listed = calls_of(tel, customer).await;
        listed.sort();
        if listed == expected {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "calls listed under the customer: {listed:?}, expected {expected:?}"
        );
        // sleep-ok: poll interval of a bounded wait (the calls are listed)
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_call_from_an_unknown_number_shows_under_the_customer_registered_with_it_later() {
    let tel = Telephony::start(fast_queue()).await;
    let admin = tel.admin().await.access_token.clone();
    let number = unique_phone();
    // The caller id arrives in its national form, as a French line presents it.
    let national = format!("0{}", &number[3..]);
    let (_, early_call) = tel.place_call(&national);
    let (_, other_call) = tel.place_call(&unique_phone());
    for call in [early_call, other_call] {
        let queued = tel
            .wait_call(call, "the call recorded", |call| {
                *call.state() != CallState::New
            })
            .await;
        assert_eq!(queued.customer_id(), None, "an unknown number");
    }

    let customer = register_customer(&tel.app, &admin, "Later Dental", &number).await;
    wait_listed(&tel, &customer, &[early_call.to_string()]).await;
    let linked = tel.call(early_call).await;
    assert_eq!(
        linked.customer_id().map(|id| id.to_string()),
        Some(customer.clone())
    );
    assert_eq!(
        tel.event_types("call", &early_call.to_string())
            .await
            .iter()
            .filter(|kind| *kind == "CallCustomerLinked")
            .count(),
        1
    );

    // A number added by an update links that number's calls too; the other call's number
    // was never given to anyone.
    let second_number = unique_phone();
    let (_, later_call) = tel.place_call(&second_number);
    tel.wait_call(later_call, "the call recorded", |call| {
        *call.state() != CallState::New
    })
    .await;
    let answer = gql(
        &tel.app,
        Some(&admin),
        "mutation($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id } }",
        json!({"id": customer, "input": {"phones": [number, second_number]}}),
    )
    .await;
    answer.data("updateCustomer");
    wait_listed(
        &tel,
        &customer,
        &[early_call.to_string(), later_call.to_string()],
    )
    .await;
    assert_eq!(tel.call(other_call).await.customer_id(), None);

    assert_eq!(
        tel.event_types("call", &early_call.to_string())
            .await
            .iter()
            .filter(|kind| *kind == "CallCustomerLinked")
            .count(),
        1,
        "linked once"
    );
}
