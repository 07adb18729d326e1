//! `savecorp simulate`: a simulated Asterisk with agent phones and callers, for demos. It
//! prints the ARI settings to start `savecorp serve` with, waits for the server to connect,
//! then places calls. Workers are not created here: register them with the printed endpoints
//! (or use `--demo`, which the command line runs between [`start`] and [`place_calls`]).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ari_adapter::sim::{Behaviour, SimAsterisk, SimConfig};
use clap::Args;
use rand::Rng as _;
use tokio_util::sync::CancellationToken;

/// What `savecorp simulate` does.
#[derive(Args, Clone, Debug)]
pub struct SimulateConfig {
    /// Agent phones to register (`PJSIP/agent1` … `PJSIP/agentN`).
    #[arg(long, default_value_t = 5)]
    pub agents: u32,

    /// Calls to place.
    #[arg(long, default_value_t = 20)]
    pub calls: u32,

    /// Average time between two calls, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub interval_ms: u64,

    /// Longest time a caller stays on the line, in seconds (each caller picks at random).
    #[arg(long, default_value_t = 30)]
    pub max_call_secs: u64,

    /// Stasis application the calls enter (the server's `ARI_APP`).
    #[arg(long, env = "ARI_APP", default_value = "callcenter")]
    pub app: String,
}

/// The simulated Asterisk of one run. Its channel ids start from the run's start time (as a
/// real Asterisk's do from its boot), so two runs against one server never name the same call.
pub fn sim_config(config: &SimulateConfig) -> SimConfig {
    let mut sim_config = SimConfig {
        inbound_app: config.app.clone(),
        record_requests: false,
        uniqueid_epoch: SimConfig::uniqueid_epoch_now(),
        ..SimConfig::default()
    };
    sim_config.endpoints.extend(endpoints(config));
    sim_config
}

/// The agent phones of a run: `PJSIP/agent1` … `PJSIP/agentN`.
pub fn endpoints(config: &SimulateConfig) -> Vec<String> {
    (1..=config.agents)
        .map(|n| format!("PJSIP/agent{n}"))
        .collect()
}

pub async fn run(config: SimulateConfig) -> anyhow::Result<()> {
    let Some(running) = start(&config, &[]).await? else {
        return Ok(());
    };
    let numbers = (1..=config.calls)
        .map(|n| format!("+1555{:07}", n))
        .collect();
    place_calls(running, numbers).await
}

/// A simulated Asterisk the server connected to.
pub struct Running {
    sim: ari_adapter::sim::SimHandle,
    config: SimulateConfig,
    stop: CancellationToken,
}

/// Starts the simulated Asterisk, prints the settings to start the server with (plus
/// `extra_settings`), and waits until the server connects (`None`: stopped by a signal first).
pub async fn start(
    config: &SimulateConfig,
    extra_settings: &[(&str, &str)],
) -> anyhow::Result<Option<Running>> {
    let config = config.clone();
    let endpoints = endpoints(&config);
    let sim_config = sim_config(&config);
    let sim = SimAsterisk::start(sim_config.clone())
        .await
        .context("cannot start the simulated asterisk")?;
    for endpoint in &endpoints {
        sim.register_endpoint(endpoint)?;
        let after = Duration::from_millis(rand::thread_rng().gen_range(500..3000));
        sim.set_agent_behaviour(endpoint, Behaviour::Answer { after });
    }
    println!("Simulated Asterisk running. Start the server with:");
    println!("  ARI_URL={}", sim.base_url());
    println!("  ARI_USER={}", sim_config.user);
    println!("  ARI_PASSWORD={}", sim_config.password);
    println!("  ARI_APP={}", config.app);
    for (name, value) in extra_settings {
        println!("  {name}={value}");
    }
    println!("Agent phones (register workers with these endpoints and make them available):");
    for endpoint in &endpoints {
        println!("  {endpoint}");
    }
    let stop = CancellationToken::new();
    crate::platform::shutdown::cancel_on_signals(stop.clone());
    println!("Waiting for the server to connect…");
    loop {
        if stop.is_cancelled() {
            return Ok(None);
        }
        if sim
            .wait_for_socket(&config.app, Duration::from_secs(1))
            .await
            .is_ok()
        {
            break;
        }
    }
    println!("Server connected.");
    Ok(Some(Running { sim, config, stop }))
}

/// Places `config.calls` calls, their callers' numbers taken in turn from `numbers`.
pub async fn place_calls(running: Running, numbers: Vec<String>) -> anyhow::Result<()> {
    let Running { sim, config, stop } = running;
    println!("Placing {} calls.", config.calls);
    let sim = Arc::new(sim);
    let mut callers = tokio::task::JoinSet::new();
    for n in 1..=config.calls {
        let number = numbers
            .get((n as usize - 1) % numbers.len().max(1))
            .cloned()
            .unwrap_or_else(|| format!("+1555{:07}", n));
        match sim.place_call(&number, &format!("Caller {n}"), "100") {
            Ok(channel_id) => {
                println!("call {n}: {number} on channel {channel_id}");
                let stay = rand::thread_rng().gen_range(1..=config.max_call_secs.max(1));
                let sim = Arc::clone(&sim);
                callers.spawn(async move {
                    tokio::time::sleep(Duration::from_secs(stay)).await;
                    // The server may have ended the call already.
                    let _ = sim.caller_hangs_up(&channel_id);
                });
            }
            Err(error) => println!("call {n} not placed: {error}"),
        }
        let pause = rand::thread_rng().gen_range(0..=config.interval_ms.saturating_mul(2));
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(Duration::from_millis(pause)) => {}
        }
    }
    tokio::select! {
        () = stop.cancelled() => {}
        () = async { while callers.join_next().await.is_some() {} } => {}
    }
    println!("Done.");
    Ok(())
}
