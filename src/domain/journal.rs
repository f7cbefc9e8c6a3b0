//! What the change journal records.

named_enum! {
    /// A type of resource whose writes the change journal records.
    #[schema(example = "school")]
    pub enum ResourceType {
        Organization => "organization",
        School => "school",
        Network => "network",
        NetworkMember => "network_member",
        Person => "person",
        Session => "session",
        CatalogueItem => "catalogue_item",
        Pei => "pei",
        Plan => "plan",
        PlanLink => "plan_link",
        ImprovementCycle => "improvement_cycle",
        MentoringVisit => "mentoring_visit",
        IndicatorValue => "indicator_value",
    }
}

named_enum! {
    /// What a write did: `created`, `updated` or `deleted` (a tombstone).
    #[schema(example = "created")]
    pub enum ChangeOperation {
        Created => "created",
        Updated => "updated",
        Deleted => "deleted",
    }
}
