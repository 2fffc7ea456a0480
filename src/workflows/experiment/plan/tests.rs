use super::*;
use crate::config::ParamOverrides;
use crate::target::{KeySource, Params, ProviderKind};
use crate::workflows::experiment::cases::parse_csv;

fn target(name: &str, provider: ProviderKind) -> Target {
    Target {
        name: name.into(),
        provider,
        model: "m".into(),
        base_url: "http://127.0.0.1:9/v1".into(),
        key: KeySource::None,
        params: Params {
            temperature: Some(0.2),
            ..Params::default()
        },
    }
}

fn variant(name: &str, prompt: Option<&str>) -> Variant {
    Variant {
        name: name.into(),
        prompt: prompt.map(str::to_string),
        origin: "--variant".into(),
        ..Variant::default()
    }
}

fn design() -> Design {
    Design {
        targets: vec![
            target("x", ProviderKind::OpenAi),
            target("y", ProviderKind::Anthropic),
        ],
        prompt: Some("Hello {{name}}".into()),
        system: Some("Be {{tone}}.".into()),
        repeat: 1,
        ..Design::default()
    }
}

fn prompt_of(plan: &Plan, cell: usize) -> (&str, Option<&str>) {
    let r = &plan.cells[cell].request;
    (r.messages[0].content.as_str(), r.system.as_deref())
}

#[test]
fn cells_are_case_then_variant_then_target_with_templates_filled() {
    let mut d = design();
    d.variants = vec![variant("a", None), variant("b", Some("Bye {{ name }}"))];
    d.cases = Some(parse_csv("id,name,tone\nc1,Ada,kind\nc2,\"Bob, Jr\",dry\n", "c.csv").unwrap());
    let plan = Plan::build(d).unwrap();
    let order: Vec<_> = plan
        .cells
        .iter()
        .map(|c| (c.case.unwrap(), c.variant.unwrap(), c.target))
        .collect();
    assert_eq!(
        order,
        [
            (0, 0, 0),
            (0, 0, 1),
            (0, 1, 0),
            (0, 1, 1),
            (1, 0, 0),
            (1, 0, 1),
            (1, 1, 0),
            (1, 1, 1)
        ]
    );
    assert_eq!(prompt_of(&plan, 0), ("Hello Ada", Some("Be kind.")));
    assert_eq!(prompt_of(&plan, 3), ("Bye Ada", Some("Be kind.")));
    assert_eq!(prompt_of(&plan, 6), ("Bye Bob, Jr", Some("Be dry.")));
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    assert!(!plan.is_plain());
}

#[test]
fn a_missing_value_names_the_variable_and_the_case() {
    let mut d = design();
    d.cases = Some(parse_csv("id,name\nc1,Ada\n", "c.csv").unwrap());
    let e = Plan::build(d).unwrap_err();
    assert_eq!(
        e,
        "no value for `{{tone}}` in case \"c1\" (the system prompt): add a `tone` column to the case table, or remove the variable"
    );
    let mut d = design();
    d.system = None;
    d.variants = vec![variant("b", Some("{{missing}}"))];
    d.cases = Some(parse_csv("name\nAda\n", "c.csv").unwrap());
    let e = Plan::build(d).unwrap_err();
    assert!(
        e.starts_with("no value for `{{missing}}` in case 1 (the prompt of variant `b`)"),
        "{e}"
    );
}

#[test]
fn without_cases_prompts_go_as_written_with_a_warning() {
    let plan = Plan::build(design()).unwrap();
    assert_eq!(prompt_of(&plan, 0), ("Hello {{name}}", Some("Be {{tone}}.")));
    assert_eq!(plan.warnings.len(), 2, "{:?}", plan.warnings);
    assert!(plan.warnings[0].contains("no --cases table"));
    // A plain run: one cell per target, the session's targets are the configured ones.
    assert!(plan.is_plain());
    assert_eq!(plan.record(), None);
    assert_eq!(plan.session_targets, plan.design.targets);
}

#[test]
fn variants_without_a_prompt_take_the_runs_and_one_without_any_is_refused() {
    let mut d = design();
    d.prompt = None;
    d.variants = vec![variant("a", Some("hi"))];
    assert!(Plan::build(d.clone()).is_ok());
    d.variants.push(variant("b", None));
    let e = Plan::build(d).unwrap_err();
    assert!(e.starts_with("variant `b` (--variant) has no prompt"), "{e}");
}

#[test]
fn parameter_overrides_get_a_target_of_their_own_and_are_checked_per_provider() {
    let mut d = design();
    let mut hot = variant("hot", None);
    hot.params = ParamOverrides {
        temperature: Some(0.9),
        ..ParamOverrides::default()
    };
    d.variants = vec![variant("plain", None), hot.clone()];
    let plan = Plan::build(d.clone()).unwrap();
    let names: Vec<_> = plan.session_targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["x", "x@hot", "y", "y@hot"]);
    assert_eq!(plan.session_targets[1].params.temperature, Some(0.9));
    assert_eq!(plan.session_targets[0].params.temperature, Some(0.2));
    let to: Vec<_> = plan.cells.iter().map(|c| c.session_target).collect();
    assert_eq!(to, [0, 2, 1, 3], "plain x, plain y, hot x, hot y");
    // Anthropic accepts 0 to 1.
    hot.params.temperature = Some(1.5);
    d.variants = vec![hot];
    let e = Plan::build(d).unwrap_err();
    assert!(e.contains("temperature 1.5 is over the 0 to 1 range"), "{e}");
    assert!(e.contains("target `y`"), "{e}");
}

fn runs_of(plan: &Plan) -> Vec<(usize, u32, bool)> {
    plan.runs.iter().map(|r| (r.cell, r.repeat, r.warmup)).collect()
}

#[test]
fn interleaved_goes_round_robin_and_sequential_cell_by_cell() {
    let mut d = design();
    d.repeat = 2;
    let plan = Plan::build(d.clone()).unwrap();
    assert_eq!(
        runs_of(&plan),
        [(0, 0, false), (1, 0, false), (0, 1, false), (1, 1, false)]
    );
    let ids: Vec<_> = plan.runs.iter().map(|r| r.run_id).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    d.order = Order::Sequential;
    let plan = Plan::build(d).unwrap();
    assert_eq!(
        runs_of(&plan),
        [(0, 0, false), (0, 1, false), (1, 0, false), (1, 1, false)]
    );
}

#[test]
fn warmups_come_first_one_per_target_per_round_on_the_first_cell() {
    let mut d = design();
    d.warmup = 2;
    d.variants = vec![variant("a", None), variant("b", None)];
    let plan = Plan::build(d).unwrap();
    assert_eq!(
        &runs_of(&plan)[..4],
        [(0, 0, true), (1, 0, true), (0, 1, true), (1, 1, true)]
    );
    assert_eq!(plan.counted_runs(), 4);
    let turns: Vec<_> = plan.runs.iter().map(|r| r.turn).collect();
    // Warmups are turns 1 and 2; then one turn per (case, variant, repeat).
    assert_eq!(turns, [1, 1, 2, 2, 3, 3, 4, 4]);
}

#[test]
fn a_random_order_is_a_permutation_reproducible_by_its_seed() {
    let mut d = design();
    d.repeat = 5;
    d.order = Order::Random;
    d.seed = Some(42);
    let a = Plan::build(d.clone()).unwrap();
    let b = Plan::build(d.clone()).unwrap();
    assert_eq!(runs_of(&a), runs_of(&b));
    let mut sorted = runs_of(&a);
    sorted.sort_unstable();
    let mut interleaved = runs_of(
        &Plan::build(Design {
            order: Order::Interleaved,
            ..d.clone()
        })
        .unwrap(),
    );
    interleaved.sort_unstable();
    assert_eq!(sorted, interleaved, "the same runs, reordered");
    d.seed = Some(43);
    assert_ne!(runs_of(&Plan::build(d.clone()).unwrap()), runs_of(&a));
    // Without a seed one is drawn, and recorded.
    d.seed = None;
    let drawn = Plan::build(d).unwrap();
    let record = drawn.record().unwrap();
    assert_eq!(record.seed, drawn.design.seed);
    assert!(record.seed.is_some());
    assert_eq!(record.order, "random");
}

#[test]
fn the_shuffle_is_pinned_so_a_seed_means_the_same_order_in_every_build() {
    let mut v: Vec<u32> = (0..8).collect();
    shuffle(&mut v, 1);
    // SplitMix64 from state 1, multiply-shift picks, Fisher-Yates from the end (worked
    // out independently of this code).
    assert_eq!(v, [0, 3, 7, 1, 2, 6, 5, 4]);
}

#[test]
fn the_record_holds_variants_cases_and_the_design() {
    let mut d = design();
    let mut hot = variant("hot", Some("p"));
    hot.params.max_tokens = Some(9);
    d.variants = vec![hot];
    d.cases = Some(parse_csv("id,name,tone\nc1,Ada,kind\n", "c.csv").unwrap());
    d.repeat = 3;
    d.warmup = 1;
    let plan = Plan::build(d).unwrap();
    let r = plan.record().unwrap();
    assert_eq!(r.variants[0].name, "hot");
    assert_eq!(r.variants[0].max_tokens, Some(9));
    assert_eq!(r.cases[0].id.as_deref(), Some("c1"));
    assert_eq!(r.cases[0].vars["name"], "Ada");
    assert_eq!(
        (r.repeat, r.warmup, r.order.as_str(), r.seed),
        (3, 1, "interleaved", None)
    );
    assert_eq!(r.targets, ["x", "y"]);
    let cell = plan.run_cell(&plan.runs[0]).unwrap();
    assert!(cell.warmup);
    assert_eq!(cell.case, Some(0));
}

#[test]
fn a_recorded_design_rebuilds_the_same_plan() {
    let mut d = design();
    let mut hot = variant("hot", Some("Bye {{name}}"));
    hot.params = ParamOverrides {
        temperature: Some(0.9),
        seed: Some(4),
        ..ParamOverrides::default()
    };
    d.variants = vec![variant("plain", None), hot];
    d.cases = Some(parse_csv("id,name,tone\nc1,Ada,kind\nc2,\"Bob, Jr\",dry\n", "c.csv").unwrap());
    d.repeat = 3;
    d.warmup = 1;
    d.order = Order::Random;
    d.seed = Some(7);
    let first = Plan::build(d.clone()).unwrap();
    let record = first.record().unwrap();
    let again = Plan::build(Design::from_record(&record, d.targets.clone()).unwrap()).unwrap();
    assert_eq!(again.record(), Some(record.clone()), "the same design");
    assert_eq!(again.cells, first.cells, "the same requests");
    assert_eq!(again.runs, first.runs, "the same seed, the same order");
    assert_eq!(again.session_targets, first.session_targets);
    // A value that is not text in the record is its JSON text; null is no value.
    let mut odd = record;
    odd.cases[0].vars.insert("n".into(), serde_json::json!(3));
    odd.cases[0].vars.insert("gone".into(), Value::Null);
    let rebuilt = Design::from_record(&odd, d.targets.clone()).unwrap();
    let case = &rebuilt.cases.unwrap().cases[0];
    assert_eq!(case.get("n"), Some("3"));
    assert_eq!(case.get("gone"), None);
    odd.order = "sideways".into();
    let e = Design::from_record(&odd, d.targets).unwrap_err();
    assert!(e.contains("unknown order `sideways`"), "{e}");
}
