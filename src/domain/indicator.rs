//! Indicators: what a definition states about its values.

named_enum! {
    /// The unit of an indicator's values: `percent` (0-100), `count`, `rate`, `score` or
    /// `currency`.
    #[schema(example = "percent")]
    pub enum IndicatorUnit {
        Percent => "percent",
        Count => "count",
        Rate => "rate",
        Score => "score",
        Currency => "currency",
    }
}

named_enum! {
    /// The type of an indicator's values: `number` or `integer`.
    #[schema(example = "number")]
    pub enum ValueType {
        Number => "number",
        Integer => "integer",
    }
}

named_enum! {
    /// How values aggregate, over territories or over time: `sum`, `mean`, `ratio` (of the
    /// summed numerators and denominators), `min`, `max`, `last` (the latest period's).
    #[schema(example = "sum")]
    pub enum Aggregation {
        Sum => "sum",
        Mean => "mean",
        Ratio => "ratio",
        Min => "min",
        Max => "max",
        Last => "last",
    }
}

named_enum! {
    /// What a value is about: a `territory` (a country, región, comuna, departamento or
    /// municipio), an `organization` (a Secretaría, a sostenedor), a `school` or a `network`.
    #[schema(example = "territory")]
    pub enum OrgUnitKind {
        Territory => "territory",
        Organization => "organization",
        School => "school",
        Network => "network",
    }
}
