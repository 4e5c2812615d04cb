//! A strategy for the host's tests: `mode` picks a behaviour, good or faulty, so each
//! fault the host must contain has a real shared library that commits it.

use chokepoint_sdk::prelude::*;

pub struct TestStrategy {
    mode: String,
    from_tick: u64,
    rate: f64,
    logger: Logger,
}

impl Strategy for TestStrategy {
    fn create(params: &Params, ctx: &Context) -> Result<Self, String> {
        params.unknown_keys(&["mode", "from_tick", "rate"])?;
        let mode = params.str_or("mode", "ok")?;
        if mode == "create-error" {
            return Err("parameter `mode` = \"create-error\": refusing to start, as asked".into());
        }
        if mode == "create-panic" {
            panic!("panicking in create, as asked");
        }
        Ok(TestStrategy {
            mode,
            from_tick: params.u64_or("from_tick", 0)?,
            rate: params.f64_or("rate", 0.1)?,
            logger: ctx.logger(),
        })
    }

    fn decide(&mut self, obs: &Observation, actions: &mut Actions) {
        if obs.tick() < self.from_tick {
            return;
        }
        let first = obs.nations().find(|&n| n != obs.me());
        let market = obs.markets().next();
        let (Some(other), Some(m)) = (first, market) else {
            return;
        };
        match self.mode.as_str() {
            "ok" => {
                self.logger.info(&format!(
                    "tick {}: tariff {} on {}",
                    obs.tick(),
                    self.rate,
                    obs.nation_name(other)
                ));
                actions.set_tariff(m, other, self.rate);
            }
            // One action, no logging: the trivial strategy the call-overhead bench times.
            "trivial" => actions.set_tariff(m, other, self.rate),
            "panic" => panic!("deliberate panic at tick {}", obs.tick()),
            "nan" => actions.set_tariff(m, other, f64::NAN),
            "negative" => actions.stockpile_buy(m, -5.0, 100.0),
            "unknown-id" => actions.set_tariff(m, NationId(9999), 0.1),
            "unknown-market" => actions.set_tariff(MarketId(9999), other, 0.1),
            _ => {}
        }
    }
}

chokepoint_sdk::export_strategy!(TestStrategy, "test-strategy");
