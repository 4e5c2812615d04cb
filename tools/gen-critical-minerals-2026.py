#!/usr/bin/env python3
"""Writes worlds/critical-minerals-2026.toml from the sourced figures below.

Why a generator: the world has 10 minerals, 21 nations and ~100 firms, and its
calibration is arithmetic (capacities from output and utilisation, cost ramps from value
added, end-use demand that balances each market at its reference price). Doing that by
hand invites slips; here each figure is written once, with its source, and the file is
derived from it. Edit this script, then run

    python3 tools/gen-critical-minerals-2026.py > worlds/critical-minerals-2026.toml

Source tags follow ../shared/data/calibration.md (copied into the file's header):
[P] USGS MCS 2026 primary data, [P*] primary via transcription (MCS 2025, USGS OFR),
[S] secondary (IEA, CSIS, trade press), [D] derived here, [A] ASSUMPTION of this file.

Calibration rule (the [D] arithmetic of every firm): a firm's marginal cost of its own
value added VA (reference price minus inputs at their reference prices) rises from
a = lo x VA at zero output to b = hi x VA at capacity K. At the reference price it then
produces q = K (VA - a) / (b - a); K is set so that q is the sourced 2025 output. With
the default lo = 0.4, hi = 1.1 that is K = 7/6 q (86% utilisation) [A]; where capacity
is sourced, b is solved from it instead. End-use demand in each market is the sourced
output less what downstream firms buy at reference prices, shared among nations by the
consumption shares given (mostly [A]): every market clears near its reference price in
the first year, which is what the sanity tests check.
"""

NATIONS = [
    # name, region, strategy binding (TOML inline), comment
    ("China", "east-asia", None),
    ("United States", "north-america", None),
    ("Japan", "east-asia", None),
    ("South Korea", "east-asia", None),
    ("EU", "europe", None),
    ("Australia", "oceania", None),
    ("Saudi Arabia", "middle-east", None),
    ("Thailand", "southeast-asia", None),
    ("India", "south-asia", None),
    ("Canada", "north-america", None),
    ("Mexico", "north-america", None),
    ("Argentina", "south-america", None),
    ("Chile", "south-america", None),
    ("DRC", "africa", None),
    ("Indonesia", "southeast-asia", None),
    ("Peru", "south-america", None),
    ("Philippines", "southeast-asia", None),
    ("Guinea", "africa", None),
    ("Morocco", "africa", None),
    ("Uzbekistan", "central-asia", None),
    ("Rest of world", "rest", None),
]

# Commodity specs. Stages: (name, reference price USD/t, price source, inputs, input
# source, build lag ticks, lag source). Firms per stage: (nation, 2025 output t/yr,
# source, optional sourced capacity t/yr, optional (lo, hi)). End use per stage:
# (elasticity, {nation: share}, end-use label, source of split).
COMMODITIES = []


def commodity(**kw):
    COMMODITIES.append(kw)


commodity(
    name="rare-earths",
    unit="t REO (mined), t NdPr oxide (oxide), t NdFeB (magnet)",
    trade=[("*", 400.0, "[A] one cost for all stages (the schema sets trade costs per commodity): ~1% of oxide and magnet values, 8% of concentrate's")],
    stages=[
        ("mined", 5000.0, "[A] REO in concentrate ~USD 5/kg: concentrate sells far below separated oxide", [], "", 84, "[S] REE mine start-up 'up to seven years' (Argonne) [S72]"),
        ("oxide", 69000.0, "[P] NdPr oxide 99%, USD 69/kg FOB China, 2025 (USGS MCS 2026) [S1]", [("mined", 4.5)], "[A] NdPr is roughly a fifth of mined REO: 4.5 t REO per t NdPr oxide", 96, "[U] ~8 years for new refining (IEA Oct 2025 via REEx) [S7]"),
        ("magnet", 60000.0, "[A] sintered NdFeB ~USD 60/kg", [("oxide", 0.3)], "[A] ~0.3 t NdPr oxide per t NdFeB (magnets ~30% REE by weight)", 36, "[S] MP 10X magnet plant: deal Jul 2025 -> 2028, ~3 yr [S73]"),
    ],
    firms={
        "mined": [
            ("China", 270000, "[P] MCS 2026, 2025e"),
            ("United States", 51000, "[P] MCS 2026, 2025e (Mountain Pass)"),
            ("Australia", 29000, "[P] MCS 2026, 2025e (Mt Weld)"),
            ("Thailand", 4800, "[P] MCS 2026, 2025e (estimated from Chinese imports)"),
            ("India", 2900, "[P] MCS 2026, 2025e"),
            ("Rest of world", 31610, "[P] MCS 2026, 2025e: Burma 22,000, Madagascar 2,700, Russia 2,600, Brazil 2,000, Nigeria 1,500, Vietnam 150, Malaysia 110, other 550"),
        ],
        "oxide": [
            ("China", 78700, "[S] China ~91% of separation (IEA Oct 2025) [S7]; [D] of 86,100 t NdPr oxide = 4.5 t REO per t from 390 kt REO"),
            ("Rest of world", 5000, "[A] Lynas Kuantan (Malaysia) and others; China+Malaysia+Australia 98% of refined REE (IEA 2023) [S6]"),
            ("United States", 1300, "[S] MP Materials 2024 NdPr oxide ~1,294 t [S, via calibration §5]"),
            ("EU", 600, "[A] Solvay La Rochelle, Neo Silmet (Estonia)"),
            ("India", 500, "[A] IREL"),
        ],
        "magnet": [
            ("China", 242800, "[S] China 94% of permanent-magnet manufacturing (IEA Oct 2025) [S7]; [D] world = 90% of NdPr oxide / 0.3"),
            ("Japan", 10300, "[A] ~4% (Shin-Etsu, Proterial, TDK)"),
            ("EU", 2000, "[A] ~0.8% (VAC, Neo Narva)"),
            ("South Korea", 1000, "[A] ~0.4%"),
            ("United States", 500, "[A] ~0.2% (pre-10X)"),
            ("Rest of world", 1700, "[A] ~0.7% (Vietnam, Philippines)"),
        ],
    },
    end_use={
        "mined": (0.1, {"China": 1.0}, "other-uses-of-concentrate", "[A] La/Ce-rich concentrate used directly"),
        "oxide": (0.15, {"China": 0.7, "Japan": 0.1, "EU": 0.05, "United States": 0.05, "Rest of world": 0.1}, "catalysts-alloys-other", "[A] ~10% of NdPr outside magnets"),
        "magnet": (0.2, {"China": 0.74, "EU": 0.07, "Japan": 0.06, "United States": 0.04, "South Korea": 0.03, "India": 0.015, "Thailand": 0.01, "Mexico": 0.01, "Rest of world": 0.025},
                   [("ev-and-industrial-motors", 0.7), ("electronics-and-wind", 0.3)],
                   "[S] Germany took 1,116 t of Chinese magnets in Jul 2025 (~13 kt/yr), the US 619 t (~7.4 kt/yr) [S47]; other shares [A]; motors/electronics split [A] (IEA: magnets the leading use, EV share rising [S6])"),
    },
)

commodity(
    name="gallium",
    unit="t Ga",
    trade=[("*", 2500.0, "[A] air freight and insurance, ~1% of value")],
    stages=[
        ("primary", 220000.0, "[P*] low-purity gallium USD 220/kg (2024, MCS 2025) [S3]", [], "", 24, "[A] by-product recovery circuit at an alumina refinery"),
        ("refined", 500000.0, "[P*] high-purity gallium USD 500/kg (2024, MCS 2025) [S3]; US import unit value USD 580/kg in 2025 [P]", [("primary", 1.05)], "[A] 5% refining loss", 24, "[A]"),
    ],
    firms={
        "primary": [
            ("China", 900, "[P] 2025e 900 t (MCS 2026); capacity 1,600 t [P]. By-product of alumina: see ASSUMPTION below", 1600),
            ("Japan", 3, "[P] MCS 2026, 2025e", 5),
            ("Rest of world", 6, "[P] Russia, MCS 2026, 2025e; other idle capacity of the 1,700 t world total [P] omitted [A]", 10),
        ],
        "refined": [
            ("China", 160, "[S] China ~50% of world high-purity gallium (CSIS 2025) [S14]; world ~320 t/yr (MCS 2025) [P*]"),
            ("Japan", 60, "[A] (US imports: Japan 22%) [P]"),
            ("EU", 25, "[A] Germany (US imports: Germany 16%) [P]"),
            ("Canada", 20, "[A] 5N Plus (US imports: Canada 28%) [P]"),
            ("South Korea", 10, "[A]"),
            ("United States", 10, "[A]"),
            ("Rest of world", 35, "[A] Taiwan, UK, Slovakia"),
        ],
    },
    end_use={
        "primary": (0.1, {"China": 0.9, "Rest of world": 0.1}, "alloys-magnets-and-stocks", "[A] primary output beyond high-purity refining: alloys, NdFeB additives, stock building (CSIS [S14] notes embedded uses)"),
        "refined": (0.1, {"China": 0.45, "Japan": 0.15, "South Korea": 0.1, "United States": 0.1, "EU": 0.08, "Rest of world": 0.12},
                    [("integrated-circuits", 0.79), ("optoelectronics", 0.21)],
                    "[P*] US end uses: ICs 79%, optoelectronics 20%, R&D 1% (MCS 2025); US ~19 t reported, ~200 t with embedded wafers (CSIS) [S14]; national shares [A]"),
    },
)

commodity(
    name="germanium",
    unit="t Ge (refined)",
    trade=[("*", 4000.0, "[A] ~0.1% of value")],
    stages=[
        ("refined", 4100000.0, "[P] germanium metal 99.999%, USD 4,100/kg, European (Argus, MCS 2026) [S1]", [], "", 24, "[A] by-product recovery from zinc refining"),
    ],
    firms={
        "refined": [
            ("China", 180, "[P*] USGS OFR 2024-1057 Table 1.14 (2022): production 180 t, capacity 309 t [S5]. By-product of zinc: see ASSUMPTION below", 309),
            ("Canada", 20, "[P*] OFR 2024-1057 (2022): 20 t, capacity 30 t", 30),
            ("Rest of world", 6, "[P*] Russia, OFR 2024-1057 (2022): 6 t, capacity 20 t", 20),
            ("EU", 4, "[P*] Belgium (Umicore), OFR 2024-1057 (2022): 4 t, capacity 10 t", 10),
        ],
    },
    end_use={
        "refined": (0.1, {"China": 0.55, "United States": 0.12, "EU": 0.12, "Japan": 0.08, "South Korea": 0.05, "Rest of world": 0.08},
                    [("fiber-optics", 0.4), ("infrared-optics", 0.3), ("electronics-and-solar", 0.2), ("other", 0.1)],
                    "[P*] end uses: fiber optics 40%, IR optics 30%, electronics and solar 20%, other 10% (OFR 2024-1057) [S5]; national shares [A]"),
    },
)

commodity(
    name="graphite",
    unit="t natural graphite (mined), t spherical anode material (anode)",
    trade=[("*", 150.0, "[A] bulk freight")],
    stages=[
        ("mined", 1000.0, "[P] flake, US import unit value ~USD 1,000/t (Census via MCS 2026) [S1]", [], "", 60, "[A] ~5 years for a graphite mine"),
        ("anode", 4000.0, "[A] natural-graphite spherical anode material ~USD 4,000/t", [("mined", 2.5)], "[A] ~40% spheroidisation yield: 2.5 t flake per t anode material", 36, "[A]"),
    ],
    firms={
        "mined": [
            ("China", 1400000, "[P] MCS 2026, 2025e"),
            ("India", 17000, "[P] MCS 2026, 2025e"),
            ("Canada", 8000, "[P] MCS 2026, 2025e"),
            ("Mexico", 740, "[P] MCS 2026, 2025e"),
            ("South Korea", 500, "[P] MCS 2026, 2025e"),
            ("Rest of world", 373760, "[P] MCS 2026, 2025e: Madagascar 80,000, Tanzania 75,000, Brazil 65,000, Mozambique 60,000, Russia 25,000 and others (world 1,800,000)"),
        ],
        "anode": [
            ("China", 291600, "[S] China 90% of battery-grade graphite (IEA WEO 2024) [S8]; [D] world anode = 45% of mined [A] / 2.5"),
            ("Japan", 12000, "[A]"),
            ("South Korea", 10000, "[A] POSCO Future M"),
            ("India", 3000, "[A]"),
            ("EU", 2000, "[A]"),
            ("United States", 1500, "[A]"),
            ("Canada", 1000, "[A]"),
            ("Rest of world", 2900, "[A]"),
        ],
    },
    end_use={
        "mined": (0.15, {"China": 0.65, "India": 0.08, "EU": 0.08, "Japan": 0.04, "United States": 0.03, "South Korea": 0.02, "Rest of world": 0.1}, "refractories-foundry-other", "[A] the ~55% of natural graphite not made into anodes"),
        "anode": (0.15, {"China": 0.75, "South Korea": 0.07, "Japan": 0.05, "United States": 0.05, "EU": 0.05, "Rest of world": 0.03}, "batteries", "[A] shares of anode use by cell makers; South Korea 97.6% dependent on China for natural graphite [U, S55]"),
    },
)

commodity(
    name="lithium",
    unit="t Li content (mined), t LCE (chemical)",
    trade=[("*", 500.0, "[A] one cost for both stages: between SC6 freight (~USD 30/t of 2.8% Li concentrate, ~1,100/t Li) and chemicals (~150/t)")],
    stages=[
        ("mined", 28700.0, "[A] spodumene SC6 ~USD 800/t at 2.79% Li: USD 28,700/t Li", [], "", 60, "[S] lithium mine 4-7 yr to build and fund (Benchmark testimony) [S69]"),
        ("chemical", 9000.0, "[P] lithium carbonate, battery grade, USD 9,000/t (USGS MCS 2026) [S1]", [("mined", 0.188)], "[D] Li2CO3 is 18.8% Li", 24, "[A] conversion plant ~2 yr"),
    ],
    firms={
        "mined": [
            ("Australia", 92000, "[P] MCS 2026, 2025e"),
            ("China", 62000, "[P] MCS 2026, 2025e"),
            ("Chile", 56000, "[P] MCS 2026, 2025e"),
            ("Argentina", 23000, "[P] MCS 2026, 2025e"),
            ("Canada", 5600, "[P] MCS 2026, 2025e"),
            ("Rest of world", 49780, "[P] MCS 2026, 2025e: Zimbabwe 28,000, Brazil 12,000, Mali 9,400, Portugal 380 (US withheld)"),
        ],
        "chemical": [
            ("China", 0.65, "[S] China 65% of lithium chemical processing (IEA WEO 2024) [S8]"),
            ("Chile", 0.19, "[A] brine carbonate (SQM, Albemarle)"),
            ("Argentina", 0.075, "[A] brine carbonate"),
            ("Australia", 0.025, "[A] Kwinana, Kemerton hydroxide"),
            ("South Korea", 0.025, "[A] POSCO hydroxide"),
            ("United States", 0.01, "[A] Silver Peak"),
            ("Canada", 0.005, "[A]"),
            ("Rest of world", 0.02, "[A]"),
        ],
    },
    # chemical output is 95% of mined Li; the rest is used as concentrate.
    downstream_share={"chemical": (0.95, "[P*] ceramics and glass 5% of lithium use (MCS 2025), taken as used directly as concentrate [A]")},
    end_use={
        "mined": (0.1, {"China": 0.6, "EU": 0.2, "Rest of world": 0.2}, "ceramics-and-glass", "[P*] ceramics/glass 5% (MCS 2025); shares [A]"),
        "chemical": (0.2, {"China": 0.7, "South Korea": 0.08, "Japan": 0.07, "United States": 0.05, "EU": 0.05, "Rest of world": 0.05},
                     [("batteries", 0.92), ("greases-and-other", 0.08)],
                     "[P*] batteries 87% of lithium use (MCS 2025), i.e. ~92% of chemicals [D]; national shares [A]; South Korea 79.6% of LiOH from China [S53]"),
    },
)

commodity(
    name="cobalt",
    unit="t Co",
    trade=[("*", 400.0, "[A] ~1-2% of value")],
    stages=[
        ("mined", 18200.0, "[A] hydroxide at ~55% payability of the LME price", [], "", 60, "[A]"),
        ("refined", 33069.0, "[P] cobalt LME cash USD 15/lb = USD 33,069/t, 2025 (MCS 2026) [S1]; US spot cathode USD 21/lb [P]", [("mined", 1.02)], "[A] 2% loss", 36, "[A]"),
    ],
    firms={
        "mined": [
            ("DRC", 230000, "[P] MCS 2026, 2025e"),
            ("Indonesia", 44000, "[P] MCS 2026, 2025e (MHP)"),
            ("Australia", 3700, "[P] MCS 2026, 2025e"),
            ("Philippines", 3700, "[P] MCS 2026, 2025e"),
            ("Canada", 3500, "[P] MCS 2026, 2025e"),
            ("China", 2000, "[P] MCS 2026, 2025e"),
            ("Morocco", 2000, "[A] Bou Azzer, part of MCS 2026 'Other countries' 9,100 t [P]"),
            ("United States", 300, "[P] MCS 2026, 2025e"),
            ("Rest of world", 20800, "[P] MCS 2026, 2025e: Russia 7,700, Madagascar 3,900, PNG 2,800, Cuba 2,000, Turkey 1,900, other 7,100 less Morocco [A]"),
        ],
        "refined": [
            ("China", 0.78, "[S] China >75% of cobalt refining (IEA WEO 2024) [S8]"),
            ("EU", 0.07, "[A] Umicore Kokkola (Finland); US imports: Finland 16% [P]"),
            ("Japan", 0.04, "[A] Sumitomo; US imports: Japan 14% [P]"),
            ("Canada", 0.025, "[A] Sherritt; US imports: Canada 14% [P]"),
            ("Indonesia", 0.03, "[A]"),
            ("Morocco", 0.005, "[A] Managem"),
            ("Australia", 0.005, "[A]"),
            ("Rest of world", 0.04, "[A] Norway (US imports: Norway 26% [P]), Russia"),
        ],
    },
    downstream_share={"refined": (0.99, "[A] 1% of mined cobalt used as intermediates")},
    end_use={
        "mined": (0.1, {"China": 1.0}, "chemicals-from-intermediates", "[A]"),
        "refined": (0.15, {"China": 0.6, "EU": 0.1, "Japan": 0.08, "South Korea": 0.08, "United States": 0.08, "Rest of world": 0.06},
                    [("batteries", 0.6), ("superalloys-and-other", 0.4)],
                    "[P*] US: superalloys 51%, chemicals 25% (MCS 2025); globally batteries dominate; shares [A]"),
    },
)

commodity(
    name="nickel",
    unit="t Ni",
    trade=[("*", 500.0, "[A] one cost for both stages: ore/matte/MHP freight per t Ni is higher, metal lower")],
    stages=[
        ("mined", 9000.0, "[A] Ni contained in ore/intermediates at ~60% of LME", [], "", 72, "[S] nickel mines longest from discovery, 18.6 yr (S&P 2024) [S65]; 6 yr build [A]"),
        ("refined", 15000.0, "[P] nickel LME cash USD 15,000/t, 2025 (MCS 2026) [S1]", [("mined", 1.0)], "[A] first processed product (NPI, matte, MHP, class 1) in Ni content", 36, "[A] HPAL/RKEF plant ~3 yr"),
    ],
    firms={
        "mined": [
            ("Indonesia", 2600000, "[P] MCS 2026, 2025e"),
            ("Philippines", 270000, "[P] MCS 2026, 2025e"),
            ("Canada", 140000, "[P] MCS 2026, 2025e"),
            ("China", 120000, "[P] MCS 2026, 2025e"),
            ("Australia", 45000, "[P] MCS 2026, 2025e"),
            ("United States", 10000, "[P] MCS 2026, 2025e"),
            ("Rest of world", 715000, "[P] MCS 2026, 2025e: Russia 200,000, New Caledonia 140,000, Brazil 70,000, other 290,000 (world 3,900,000)"),
        ],
        "refined": [
            ("Indonesia", 0.66, "[S] Indonesia ~90% of nickel supply growth 2020-24 (IEA) [S8, S9]; its ore must be processed at home (export ban) [A]"),
            ("China", 0.15, "[A] NPI from Philippine ore, refining of Indonesian intermediates"),
            ("Japan", 0.03, "[A] Sumitomo"),
            ("Canada", 0.035, "[A] Vale, Sherritt; US imports: Canada 44% [P]"),
            ("Australia", 0.012, "[A]"),
            ("EU", 0.015, "[A] Finland"),
            ("Rest of world", 0.098, "[A] Russia (Norilsk), New Caledonia, Brazil, Norway"),
        ],
    },
    downstream_share={"refined": (0.99, "[A] 1% used directly (ferronickel in ore form)")},
    end_use={
        "mined": (0.1, {"China": 1.0}, "direct-use", "[A]"),
        "refined": (0.2, {"China": 0.6, "Indonesia": 0.08, "EU": 0.08, "Japan": 0.05, "United States": 0.05, "South Korea": 0.04, "India": 0.04, "Rest of world": 0.06},
                    [("stainless-and-alloys", 0.85), ("batteries", 0.15)],
                    "[P*] stainless and alloy steel >85% of US use (MCS 2025); shares [A]"),
    },
)

commodity(
    name="antimony",
    unit="t Sb",
    trade=[("*", 500.0, "[A] ~1% of value")],
    stages=[
        ("mined", 33000.0, "[A] concentrate at ~60% of the metal price", [], "", 48, "[A]"),
        ("refined", 55116.0, "[P] antimony metal 99.65% CIF USD 25/lb = USD 55,116/t, 2025 (MCS 2026) [S1]", [("mined", 1.02)], "[A] 2% loss", 24, "[A]"),
    ],
    firms={
        "mined": [
            ("China", 40000, "[P] MCS 2026, 2025e"),
            ("Australia", 1300, "[P] MCS 2026, 2025e"),
            ("Mexico", 600, "[P] MCS 2026, 2025e"),
            ("Rest of world", 68110, "[P] MCS 2026, 2025e: Russia 32,000, Tajikistan 22,000, Bolivia 5,000, Burma 4,500, Turkey 3,000, others (world 110,000)"),
        ],
        "refined": [
            ("China", 0.55, "[A] China the leading refiner (US oxide imports: China 66% [P])"),
            ("Rest of world", 0.25, "[A] Russia, Tajikistan, Vietnam, Bolivia"),
            ("EU", 0.06, "[A] Belgium (US imports: Belgium 12% [P])"),
            ("Thailand", 0.04, "[A] (US imports: Thailand 8% [P])"),
            ("India", 0.04, "[A] (US imports: India 6% [P])"),
            ("United States", 0.02, "[A] US Antimony (Montana)"),
            ("Mexico", 0.02, "[A]"),
            ("Japan", 0.02, "[A]"),
        ],
    },
    downstream_share={"refined": (0.98, "[A] 2% of concentrate used directly")},
    end_use={
        "mined": (0.1, {"China": 1.0}, "direct-use", "[A]"),
        "refined": (0.1, {"China": 0.45, "EU": 0.15, "United States": 0.1, "Japan": 0.07, "India": 0.05, "South Korea": 0.03, "Rest of world": 0.15},
                    [("metal-products", 0.4), ("flame-retardants", 0.39), ("non-metal-other", 0.21)],
                    "[P*] US: metal products 40%, flame retardants 39%, non-metal 21% (MCS 2025); shares [A]"),
    },
)

commodity(
    name="tungsten",
    unit="t W",
    trade=[("*", 500.0, "[A] ~1% of value")],
    stages=[
        ("mined", 47919.0, "[P] tungsten concentrate USD 380/mtu WO3, Rotterdam (Argus, MCS 2026) [S1]; 1 mtu = 7.93 kg W [D]", [], "", 60, "[A]"),
        ("refined", 59900.0, "[A] APT ~1.25x concentrate", [("mined", 1.03)], "[A] 3% loss", 24, "[A]"),
    ],
    firms={
        "mined": [
            ("China", 67000, "[P] MCS 2026, 2025e"),
            ("Australia", 1000, "[P] MCS 2026, 2025e"),
            ("Uzbekistan", 300, "[A] part of MCS 2026 'Other countries' 2,400 t [P]"),
            ("Rest of world", 16700, "[P] MCS 2026, 2025e: Vietnam 3,000, Kazakhstan 2,400, N. Korea 2,000, Russia 2,000, Bolivia 1,700, Rwanda 1,300, Austria 840, Spain 800, Portugal 700, others"),
        ],
        "refined": [
            ("China", 0.82, "[A] China ~80% of APT (cf. 79% of mining [P])"),
            ("EU", 0.06, "[A] Austria, Germany (US imports: Germany 14% [P])"),
            ("Japan", 0.03, "[A]"),
            ("United States", 0.02, "[A]"),
            ("Rest of world", 0.07, "[A] Vietnam (US imports: Vietnam 8% [P]), Russia"),
        ],
    },
    downstream_share={"refined": (0.97, "[A] 3% of concentrate used directly (ferrotungsten)")},
    end_use={
        "mined": (0.1, {"China": 0.8, "EU": 0.2}, "ferrotungsten", "[A]"),
        "refined": (0.1, {"China": 0.55, "EU": 0.12, "United States": 0.1, "Japan": 0.1, "South Korea": 0.04, "India": 0.03, "Rest of world": 0.06},
                    [("cemented-carbides", 0.6), ("alloys-and-chemicals", 0.4)],
                    "[P*] cemented carbides ~60% of US use (MCS 2025); shares [A]"),
    },
)

LO, HI = 0.4, 1.1


def fmt(x):
    """A tidy float: whole numbers as 123.0, others to 4 significant figures."""
    if x == 0:
        return "0.0"
    if abs(x) >= 100:
        return f"{round(x):.1f}"
    s = f"{x:.4g}"
    return s if ("." in s or "e" in s) else s + ".0"


def build():
    firms_out = []
    demand = {n[0]: [] for n in NATIONS}
    notes = []
    for c in COMMODITIES:
        stages = {s[0]: s for s in c["stages"]}
        price = {s[0]: s[1] for s in c["stages"]}
        # Downstream-first: output of each stage, and derived demand on its inputs.
        output = {}
        firm_q = {}
        order = [s[0] for s in c["stages"]]
        for st in order:
            rows = c["firms"][st]
            if all(isinstance(r[1], float) and r[1] <= 1.0 for r in rows):
                # Shares of a total set by the upstream stage.
                up = stages[st][3][0]
                ds = c.get("downstream_share", {}).get(st, (1.0, ""))[0]
                total = ds * output[up[0]] / up[1]
                firm_q[st] = [(r[0], r[1] * total, r[2]) + tuple(r[3:]) for r in rows]
            else:
                firm_q[st] = [(r[0], float(r[1]), r[2]) + tuple(r[3:]) for r in rows]
            output[st] = sum(r[1] for r in firm_q[st])
        derived = {st: 0.0 for st in order}
        for st in order:
            for inp, ratio in stages[st][3]:
                derived[inp] += ratio * output[st]
        for st in order:
            va = price[st] - sum(r * price[i] for i, r in stages[st][3])
            assert va > 0, (c["name"], st, va)
            for row in firm_q[st]:
                nation, q, src = row[0], row[1], row[2]
                cap = row[3] if len(row) > 3 else None
                a = LO * va
                if cap is None:
                    b = HI * va
                    k = q * (b - a) / (va - a)
                    rule = f"[D] K = 7/6 x output; mc {LO} -> {HI} x value added {fmt(va)}"
                else:
                    k = float(cap)
                    b = a + (va - a) * k / q
                    rule = f"[D] capacity sourced; mc {LO} x value added {fmt(va)} -> b solved so output at the reference price is {fmt(q)}"
                firms_out.append(dict(
                    name=f"{nation} {c['name']} {st}", nation=nation, commodity=c["name"], stage=st,
                    capacity=k, a=a, b=b, comment=f"# {src}\n# {rule}; output at reference {fmt(q)} t/yr"))
            residual = output[st] - derived[st]
            assert residual >= -1e-6, (c["name"], st, residual)
            el, shares, uses, src = c["end_use"][st]
            assert abs(sum(shares.values()) - 1.0) < 1e-9, (c["name"], st)
            if isinstance(uses, str):
                uses = [(uses, 1.0)]
            for nation, sh in shares.items():
                for use, f in uses:
                    q0 = residual * sh * f
                    if q0 <= 0:
                        continue
                    demand[nation].append((c["name"], st, price[st], q0, el, use))
            notes.append((c["name"], st, output[st], derived[st], residual, src))
    return firms_out, demand, notes


def toml_list(xs):
    return "[" + ", ".join(f'"{x}"' for x in xs) + "]"


DOMINATED = ["rare-earths/oxide", "rare-earths/magnet", "gallium/primary", "gallium/refined",
             "germanium/refined", "graphite/mined", "graphite/anode", "lithium/chemical",
             "cobalt/refined", "antimony/refined", "tungsten/mined", "tungsten/refined"]

# Strategy bindings: (strategy, params TOML, budget USD, comment lines).
BINDINGS = {
    "China": ("china-controls",
              f'{{ escalate_every = 3, targets = {toml_list(["United States", "Japan", "EU", "Australia"])}, cooperators = {toml_list(["South Korea", "Rest of world"])}, markets = {toml_list(DOMINATED)} }}',
              None,
              ["The incumbent's licence ladder in the markets it dominates (agents/china-controls)."]),
    "United States": ("us-coalition",
                      f'{{ stockpile_markets = [], floor_markets = [], invest_markets = {toml_list(["rare-earths/oxide", "rare-earths/magnet"])}, partners = {toml_list(["Australia", "United States"])}, invest_tpy = 2000, usd_per_tpy = 100000 }}',
                      12.0e9,
                      ["[S] Project Vault: USD 10bn EXIM loan + ~USD 2bn private capital (2 Feb 2026) [S77].",
                       "[A] Vault's procurement had not started in January 2026: the stockpile is off here",
                       "(`stockpile_markets = []`) and on in worlds/scenarios/vault.toml. FORGE floors are",
                       "proposals, not in force: no floor (worlds/scenarios/forge-floors.toml). The DoD-MP",
                       "NdPr floor of USD 110/kg [S73] is paid to one producer, not levied on imports: not",
                       "represented [A]. Financing capacity at home and in Australia stands for the",
                       "2025 deals (MP, Vulcan, USA Rare Earth) [brief]."]),
    "South Korea": ("hedging-ally",
                    f'{{ markets = {toml_list(["rare-earths/magnet", "rare-earths/oxide", "gallium/refined", "graphite/anode", "lithium/chemical", "cobalt/refined", "nickel/refined", "tungsten/refined"])}, suppliers = {toml_list(["China", "Japan", "United States", "EU", "Australia", "Indonesia", "Chile", "Canada", "Rest of world"])} }}',
                    None,
                    ["[S] In FORGE (chair until June) and, from 5 Feb 2026, a hotline and joint committee with",
                     "China for faster imports [S99]: the dual-track importer (agents/hedging-ally)."]),
    "Australia": ("producer",
                  f'{{ markets = {toml_list(["rare-earths/mined", "antimony/mined", "tungsten/mined"])}, export_margin = 0.1, invest_tpy = 2000, usd_per_tpy = 20000 }}',
                  0.78e9,
                  ["[S] Critical Minerals Strategic Reserve, A$1.2bn (A$1bn through the Critical Minerals",
                   "Facility + A$185m for stockpiling), operational H2 2026, focus Sb, Ga, REE [S86-S88];",
                   "[A] A$1.2bn at USD 0.65 = USD 0.78bn. It is an offtake-and-finance model, so it is",
                   "played as a producer that finances capacity at home (agents/producer)."]),
}
PRODUCERS = {
    "Canada": ["nickel/refined", "cobalt/refined", "germanium/refined", "gallium/refined"],
    "Chile": ["lithium/mined", "lithium/chemical"],
    "Argentina": ["lithium/mined", "lithium/chemical"],
    "DRC": ["cobalt/mined"],
    # Not nickel/mined: the producer rule lifts its own controls, and the ore export ban is
    # policy Indonesia keeps.
    "Indonesia": ["nickel/refined", "cobalt/mined", "cobalt/refined"],
    "Philippines": ["nickel/mined", "cobalt/mined"],
    "Morocco": ["cobalt/mined", "cobalt/refined"],
    "Uzbekistan": ["tungsten/mined"],
    "Rest of world": ["rare-earths/mined", "rare-earths/oxide", "graphite/mined", "lithium/mined", "cobalt/mined", "nickel/mined", "antimony/mined", "tungsten/mined"],
}
for n, mk in PRODUCERS.items():
    BINDINGS[n] = ("producer", f"{{ markets = {toml_list(mk)} }}", None,
                   ["A producer the US frameworks target: sells where the net price is best and lifts its",
                    "own controls; no budget, so it does not invest (agents/producer) [A]."])
PASSIVE_NOTE = ["A price taker (agents/passive): trades at market prices under the policies in force."]

HEADER = """\
# The critical-minerals world as of January 2026 (one tick = one month).
#
# GENERATED by tools/gen-critical-minerals-2026.py from the sourced figures in that
# script: edit the script, not this file, and regenerate.
#
# Sources are tagged as in ../shared/data/calibration.md (copied from it; [S#] refers to
# its source list): [P] USGS primary data (Mineral Commodity Summaries 2026, data release
# v1.3), [P*] primary via transcription (MCS 2025, USGS OFR 2024-1057), [S] secondary (IEA,
# CSIS, trade press), [U] unverified, [D] derived here (the arithmetic is stated), [A] an
# ASSUMPTION of this file where no source gives the figure. Quantities are tonnes per
# year (the engine converts to per tick); prices are USD per tonne. Base year 2025.
#
# Calibration ([D], see the script's docstring): each firm's marginal cost of its own
# value added rises from 0.4x to 1.1x the value added at reference prices, and its
# capacity is 7/6 of its 2025 output, so at reference prices it produces its 2025 output
# (86% utilisation [A]); where capacity is sourced (Ga, Ge) the cost ramp is solved from
# it. End-use demand is the 2025 output not bought by downstream firms, shared among
# nations (shares mostly [A]); the elasticities are the priors of calibration §4.1 [U]:
# 0.1 for by-product and small metals, 0.15-0.2 for battery and magnet materials.
#
# ASSUMPTIONS the schema cannot express:
# - Gallium is a by-product of alumina refining (Ga ~50 ppm in bauxite [P*]), germanium of
#   zinc refining. The schema has no cross-commodity inputs, so primary gallium and
#   refined germanium capacity are fixed (China Ga 1,600 t, Ge 309 t [P/P*]), i.e. tied to
#   2025 alumina and zinc output. A scenario that cuts alumina (or zinc) output must apply
#   the same capacity_shock factor to gallium/primary (germanium/refined): Ga capacity
#   scales one for one with alumina throughput at a fixed recovery rate [A].
# - DRC's cobalt export quota (from Oct 2025) is not in calibration.md's sources: omitted.
# - The US-China tariff stack is simplified to the cells below.
"""

WORLD = """
[world]
name = "critical-minerals-2026"
description = "Rare earths (mined -> NdPr oxide -> NdFeB magnet), gallium, germanium, graphite, lithium, cobalt, nickel, antimony and tungsten; 21 nations; the policies in force in January 2026."
ticks_per_year = 12
expectation_weight = 0.5

# ---------------------------------------------------------------------------------
# Commodities and their stages. Build lags are ticks (months) for new capacity.
# ---------------------------------------------------------------------------------
"""


def main(out):
    firms, demand, notes = build()
    w = out.write
    w(HEADER)
    w(WORLD)
    for c in COMMODITIES:
        w(f'\n[[commodity]]\nname = "{c["name"]}"\nunit = "{c["unit"]}"\n')
        for (st, p, psrc, inputs, isrc, lag, lsrc) in c["stages"]:
            w(f'\n[[commodity.stage]]\nname = "{st}"\n# {psrc}\nreference_price_usd_per_t = {fmt(p)}\n')
            if inputs:
                w(f'# {isrc}\n')
                w("inputs = [" + ", ".join(f'{{ stage = "{i}", ratio = {fmt(r)} }}' for i, r in inputs) + "]\n")
            w(f'build_lag_ticks = {lag}           # {lsrc}\n')
    w("\n# ---------------------------------------------------------------------------------\n")
    w("# Market balance at reference prices, t/yr [D]: output = bought by downstream firms +\n")
    w("# end-use demand (the residual, shared among nations below).\n")
    for (cn, st, o, d, r, src) in notes:
        w(f"#   {cn}/{st}: output {fmt(o)} = downstream {fmt(d)} + end use {fmt(r)}\n")
    w("# ---------------------------------------------------------------------------------\n")
    w("\n# ---------------------------------------------------------------------------------\n")
    w("# Nations, their strategies (plugin crates in agents/, each README states the rule and\n")
    w("# parameters) and their end-use demand (reference price, quantity t/yr, elasticity).\n")
    w("# Demand shares by nation and end use, with sources:\n")
    for c in COMMODITIES:
        for st, (el, shares, uses, src) in c["end_use"].items():
            w(f"#   {c['name']}/{st} (elasticity {el} [U]): {src}\n")
    w("# ---------------------------------------------------------------------------------\n")
    for name, region, _ in NATIONS:
        strat, params, budget, comment = BINDINGS.get(name, ("passive", None, None, PASSIVE_NOTE))
        w("\n")
        for line in comment:
            w(f"# {line}\n")
        w(f'[[nation]]\nname = "{name}"\nregion = "{region}"\nstrategy = "{strat}"\n')
        if params:
            w(f"params = {params}\n")
        if budget:
            w(f"budget_usd = {budget:.3e}\n".replace("e+", "e"))
        rows = demand[name]
        if rows:
            w("demand = [\n")
            for (cn, st, p, q, el, use) in rows:
                w(f'  {{ commodity = "{cn}", stage = "{st}", reference_price_usd_per_t = {fmt(p)}, reference_quantity_tpy = {fmt(q)}, elasticity = {el}, end_use = "{use}" }},\n')
            w("]\n")
    w("\n# ---------------------------------------------------------------------------------\n")
    w("# Firms: one aggregate firm per nation and stage where the nation has capacity.\n")
    w("# ---------------------------------------------------------------------------------\n")
    for f in firms:
        w(f'\n{f["comment"]}\n[[firm]]\nname = "{f["name"]}"\nnation = "{f["nation"]}"\ncommodity = "{f["commodity"]}"\nstage = "{f["stage"]}"\ncapacity_tpy = {fmt(f["capacity"])}\nmarginal_cost = {{ at_zero_usd_per_t = {fmt(f["a"])}, at_capacity_usd_per_t = {fmt(f["b"])} }}\n')
    w("\n# ---------------------------------------------------------------------------------\n")
    w("# Trade costs (USD per tonne, freight and insurance) [A]; cheaper within east Asia.\n")
    w("# ---------------------------------------------------------------------------------\n")
    w("[trade]\ndefault_usd_per_t = 300.0      # [A]\n")
    for c in COMMODITIES:
        for st, cost, src in c["trade"]:
            if st == "*":
                w(f'\n[[trade.cost]]          # {src}\nfrom = "*"\nto = "*"\ncommodity = "{c["name"]}"\nusd_per_t = {fmt(cost)}\n')
    w('\n[[trade.cost]]          # [A] short hauls within east Asia, every commodity (later: wins)\nfrom = "east-asia"\nto = "east-asia"\nusd_per_t = 120.0\n')
    w(POLICIES)


POLICIES = """
# ---------------------------------------------------------------------------------
# Policies in force in January 2026. Later rules win on the cells they select.
# ---------------------------------------------------------------------------------

# [S] After the Busan truce (30 Oct 2025) the US "fentanyl" tariff on China is 10% [S92];
# [A] most critical minerals are otherwise exempt, so 10% on every commodity.
[[tariff]]
importer = "United States"
exporter = "China"
commodity = "*"
rate = 0.10

# [A] Section 301 on Chinese permanent magnets rises to 25% on 1 Jan 2026 (USTR four-year
# review, May 2024; not in calibration.md's sources), on top of the 10%.
[[tariff]]
importer = "United States"
exporter = "China"
commodity = "rare-earths"
stage = "magnet"
rate = 0.35

# [P*] Section 301 on tungsten products to 25% from 1 Jan 2025 (USTR 11 Dec 2024) [S3], + 10%.
[[tariff]]
importer = "United States"
exporter = "China"
commodity = "tungsten"
rate = 0.35

# [A] Section 301 on natural graphite 25% from 2026 (USTR May 2024; not in calibration.md's
# sources), + 10%.
[[tariff]]
importer = "United States"
exporter = "China"
commodity = "graphite"
rate = 0.35

# [A] China's retaliatory 10% on US goods kept after the truce.
[[tariff]]
importer = "China"
exporter = "United States"
commodity = "*"
rate = 0.10

# China's export licences, in force before the run (so licences already come through);
# ~45-60 working days per licence [S43, S44]: 2 ticks.
# [P] April 2025 rare-earth controls (oxides, metals, magnets); general licences after the
# Nov 2025 truce; the 9 Oct 2025 expansion suspended for one year [S1, S92].
[[licence]]
exporter = "China"
destination = "*"
commodity = "rare-earths"
stage = "oxide"
kind = "licence"
delay_ticks = 2

[[licence]]
exporter = "China"
destination = "*"
commodity = "rare-earths"
stage = "magnet"
kind = "licence"
delay_ticks = 2

# [P*] Ga and Ge licensing since 1 Aug 2023 [S29, S89]; the Dec 2024 ban to the US is
# suspended for one year from Nov 2025 (MCS 2026) [S1].
[[licence]]
exporter = "China"
destination = "*"
commodity = "gallium"
kind = "licence"
delay_ticks = 2

[[licence]]
exporter = "China"
destination = "*"
commodity = "germanium"
kind = "licence"
delay_ticks = 2

# [S] Battery-grade graphite licensing since 1 Dec 2023 [S89, S90].
[[licence]]
exporter = "China"
destination = "*"
commodity = "graphite"
stage = "anode"
kind = "licence"
delay_ticks = 2

# [S] Antimony licensing since 15 Sep 2024 [S89].
[[licence]]
exporter = "China"
destination = "*"
commodity = "antimony"
kind = "licence"
delay_ticks = 2

# [S] Tungsten licensing since Feb 2025 [S89].
[[licence]]
exporter = "China"
destination = "*"
commodity = "tungsten"
kind = "licence"
delay_ticks = 2

# [A] Indonesia's nickel-ore export ban (since Jan 2020; not in calibration.md's sources):
# its ore is processed at home.
[[licence]]
exporter = "Indonesia"
destination = "*"
commodity = "nickel"
stage = "mined"
kind = "ban"

# ---------------------------------------------------------------------------------
# Timeline: none. The base world holds the January 2026 policies; the scenarios in
# worlds/scenarios/ script what changes (the Nov 2026 lapse of China's suspensions is in
# controls-escalation.toml).
# ---------------------------------------------------------------------------------
"""

if __name__ == "__main__":
    import sys
    main(sys.stdout)
