//! The exported tables: their names, columns and column types, declared once for both
//! formats (the Parquet schema, the CSV header and the manifest are all built from here).

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};

/// The type of a column. Names (nations, firms, commodities, stages, kinds) are
/// dictionary-encoded strings; free text (event and policy details) is plain UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// The tick, `UInt64`.
    Tick,
    /// A small count, `UInt32`.
    Count,
    /// `Boolean`.
    Flag,
    /// A name, `Dictionary(Int32, Utf8)`, never null.
    Name,
    /// A name that may be absent, `Dictionary(Int32, Utf8)`, nullable.
    OptName,
    /// Free text, `Utf8`, nullable.
    Text,
    /// A quantity, price or amount of money, `Float64`, never null.
    Number,
    /// A quantity that may be undefined, `Float64`, nullable.
    OptNumber,
}

impl ColumnType {
    pub fn arrow(self) -> DataType {
        match self {
            ColumnType::Tick => DataType::UInt64,
            ColumnType::Count => DataType::UInt32,
            ColumnType::Flag => DataType::Boolean,
            ColumnType::Name | ColumnType::OptName => {
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
            }
            ColumnType::Text => DataType::Utf8,
            ColumnType::Number | ColumnType::OptNumber => DataType::Float64,
        }
    }

    pub fn nullable(self) -> bool {
        matches!(
            self,
            ColumnType::OptName | ColumnType::Text | ColumnType::OptNumber
        )
    }

    /// The type's name in the manifest (Arrow's names).
    pub fn manifest_name(self) -> &'static str {
        match self {
            ColumnType::Tick => "uint64",
            ColumnType::Count => "uint32",
            ColumnType::Flag => "bool",
            ColumnType::Name | ColumnType::OptName => "dictionary<int32, utf8>",
            ColumnType::Text => "utf8",
            ColumnType::Number | ColumnType::OptNumber => "float64",
        }
    }
}

/// One exported table.
#[derive(Debug, Clone, Copy)]
pub struct TableDef {
    pub name: &'static str,
    pub columns: &'static [(&'static str, ColumnType)],
}

impl TableDef {
    pub fn arrow_schema(&self) -> Arc<Schema> {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|&(name, ty)| Field::new(name, ty.arrow(), ty.nullable()))
                .collect::<Vec<_>>(),
        ))
    }

    /// The CSV header line (without the line end).
    pub fn csv_header(&self) -> String {
        self.columns
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(",")
    }
}

use ColumnType::*;

pub(crate) const PRICES: usize = 0;
pub(crate) const FLOWS: usize = 1;
pub(crate) const PRODUCTION: usize = 2;
pub(crate) const SHORTAGES: usize = 3;
pub(crate) const STOCKPILES: usize = 4;
pub(crate) const POLICIES: usize = 5;
pub(crate) const EVENTS: usize = 6;
pub(crate) const ACTIONS: usize = 7;
pub(crate) const WELFARE: usize = 8;
pub(crate) const CLEARING: usize = 9;
pub(crate) const NEGOTIATION_ROUNDS: usize = 10;
pub(crate) const AGREEMENTS: usize = 11;
pub(crate) const DELIVERIES: usize = 12;
pub(crate) const SUBSTITUTION: usize = 13;
pub(crate) const RECYCLING: usize = 14;
pub(crate) const PIPELINE: usize = 15;

/// Every exported table, in the order of the manifest. The first tables share names,
/// columns and meanings with the run's CSV tables (`chokepoint_tables::TABLES`).
pub const TABLES: &[TableDef] = &[
    TableDef {
        name: "prices",
        columns: &[
            ("tick", Tick),
            ("commodity", Name),
            ("stage", Name),
            ("nation", Name),
            ("price_usd_per_t", Number),
        ],
    },
    TableDef {
        name: "flows",
        columns: &[
            ("tick", Tick),
            ("commodity", Name),
            ("stage", Name),
            ("origin", Name),
            ("destination", Name),
            ("quantity_t", Number),
            ("landed_usd_per_t", Number),
            ("value_usd", Number),
            ("tariff_usd", Number),
            ("levy_usd", Number),
        ],
    },
    TableDef {
        name: "production",
        columns: &[
            ("tick", Tick),
            ("firm", Name),
            ("nation", Name),
            ("commodity", Name),
            ("stage", Name),
            ("capacity_t", Number),
            ("input_limited_capacity_t", Number),
            ("produced_t", Number),
            ("sold_from_stock_t", Number),
        ],
    },
    TableDef {
        name: "shortages",
        columns: &[
            ("tick", Tick),
            ("commodity", Name),
            ("stage", Name),
            ("nation", Name),
            ("consumer", Name),
            ("wanted_t", Number),
            ("obtained_t", Number),
            ("shortage_t", Number),
        ],
    },
    TableDef {
        name: "stockpiles",
        columns: &[
            ("tick", Tick),
            ("commodity", Name),
            ("stage", Name),
            ("owner", Name),
            ("bought_t", Number),
            ("sold_t", Number),
            ("holdings_t", Number),
            ("spent_usd", Number),
            ("earned_usd", Number),
        ],
    },
    TableDef {
        name: "policies",
        columns: &[
            ("tick", Tick),
            ("kind", Name),
            ("commodity", Name),
            ("stage", Name),
            ("nation_a", Name),
            ("nation_b", OptName),
            ("value", OptNumber),
            ("detail", Text),
        ],
    },
    TableDef {
        name: "events",
        columns: &[("tick", Tick), ("kind", Name), ("detail", Text)],
    },
    TableDef {
        name: "actions",
        columns: &[
            ("tick", Tick),
            ("nation", Name),
            ("kind", Name),
            ("commodity", Name),
            ("stage", Name),
            ("other_nation", OptName),
            ("value", OptNumber),
            ("price", OptNumber),
            ("detail", Text),
        ],
    },
    TableDef {
        name: "welfare",
        columns: &[
            ("tick", Tick),
            ("nation", Name),
            ("consumer_surplus_usd", OptNumber),
            ("producer_revenue_usd", Number),
            ("tariff_revenue_usd", Number),
            ("budget_usd", Number),
        ],
    },
    TableDef {
        name: "clearing",
        columns: &[
            ("tick", Tick),
            ("commodity", Name),
            ("stage", Name),
            ("sweeps", Count),
            ("converged", Flag),
            ("residual", Number),
        ],
    },
    // Negotiation: `tick` is market time, `round` the negotiation round inside it,
    // `session_round` the bargaining period of the session (offers made so far).
    TableDef {
        name: "negotiation_rounds",
        columns: &[
            ("tick", Tick),
            ("round", Count),
            ("session", Count),
            ("session_round", Count),
            ("nation", Name),
            ("action", Name),
            ("outcome", Name),
            ("detail", Text),
        ],
    },
    // Every agreement in force or changed in the tick; members `;`-separated, terms
    // described in words (as in the run's table).
    TableDef {
        name: "agreements",
        columns: &[
            ("tick", Tick),
            ("agreement", Count),
            ("session", Count),
            ("kind", Name),
            ("status", Name),
            ("members", Text),
            ("signed_tick", Tick),
            ("signed_round", Count),
            ("session_round", Count),
            ("shortfalls", Count),
            ("terms", Text),
        ],
    },
    TableDef {
        name: "deliveries",
        columns: &[
            ("tick", Tick),
            ("agreement", Count),
            ("commodity", Name),
            ("stage", Name),
            ("seller", Name),
            ("buyer", Name),
            ("planned_t", Number),
            ("delivered_t", Number),
            ("price_usd_per_t", Number),
            ("resold_t", Number),
        ],
    },
    TableDef {
        name: "substitution",
        columns: &[
            ("tick", Tick),
            ("commodity", Name),
            ("stage", Name),
            ("nation", Name),
            ("end_use", Name),
            ("price_usd_per_t", Number),
            ("substitution_share", Number),
            ("target_share", Number),
            ("permanent_share", Number),
        ],
    },
    TableDef {
        name: "recycling",
        columns: &[
            ("tick", Tick),
            ("commodity", Name),
            ("stage", Name),
            ("nation", Name),
            ("scrap_arising_t", Number),
            ("collected_t", Number),
            ("recycled_t", Number),
            ("recycled_sold_t", Number),
            ("supply_t", Number),
            ("recycled_share", Number),
            ("scrap_stock_t", Number),
            ("subsidy_usd", Number),
        ],
    },
    // Capacity under construction; `firm` is empty (null) for capacity a nation
    // financed and for recycling plants.
    TableDef {
        name: "pipeline",
        columns: &[
            ("tick", Tick),
            ("commodity", Name),
            ("stage", Name),
            ("nation", Name),
            ("firm", OptName),
            ("funder", Name),
            ("kind", Name),
            ("capacity_t", Number),
            ("started_tick", Tick),
            ("arrives_at_tick", Tick),
        ],
    },
];

/// The definition of the table called `name`.
pub fn table(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().find(|t| t.name == name)
}
