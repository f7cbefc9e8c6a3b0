//! School plans and what they are articulated with: the management catalogues.

named_enum! {
    /// What a catalogue holds: `management_model` (Chile's dimensions and subdimensions of
    /// school management), `planes_normativos` (the plans the law requires of every school),
    /// `areas_de_gestion` (Colombia's areas and processes of school management).
    #[schema(example = "management_model")]
    pub enum CatalogueKind {
        ManagementModel => "management_model",
        PlanesNormativos => "planes_normativos",
        AreasDeGestion => "areas_de_gestion",
    }
}

named_enum! {
    /// An item's place in its catalogue: `area`, `dimension`, `subdimension`, `plan` (a plan
    /// normativo) or `process` (a process of a Colombian área de gestión).
    #[schema(example = "subdimension")]
    pub enum ItemLevel {
        Area => "area",
        Dimension => "dimension",
        Subdimension => "subdimension",
        Plan => "plan",
        Process => "process",
    }
}

named_enum! {
    /// Whose profile a PEI describes: `estudiante`, `docente`, `directivo`,
    /// `asistente_educacion`, `apoderado`, `profesional_apoyo`.
    #[schema(example = "estudiante")]
    pub enum Actor {
        Estudiante => "estudiante",
        Docente => "docente",
        Directivo => "directivo",
        AsistenteEducacion => "asistente_educacion",
        Apoderado => "apoderado",
        ProfesionalApoyo => "profesional_apoyo",
    }
}

named_enum! {
    /// What a plan is. `pme`: a Chilean school's *Plan de Mejoramiento Educativo* (a cycle of
    /// up to four years). `pmi`: a Colombian school's *Plan de Mejoramiento Institucional*.
    /// `pam`: a Colombian Secretaría's *Plan de Apoyo al Mejoramiento*, supporting its schools'
    /// PMIs. `plan_normativo`: one of a Chilean school's planes normativos for one year.
    #[schema(example = "pme")]
    pub enum PlanKind {
        Pme => "pme",
        Pmi => "pmi",
        Pam => "pam",
        PlanNormativo => "plan_normativo",
    }
}

impl PlanKind {
    /// The country whose plans are of this kind.
    pub fn country(self) -> super::Country {
        match self {
            PlanKind::Pme | PlanKind::PlanNormativo => super::Country::Cl,
            PlanKind::Pmi | PlanKind::Pam => super::Country::Co,
        }
    }

    /// Whether a school owns it (else a Secretaría).
    pub fn school_owned(self) -> bool {
        !matches!(self, PlanKind::Pam)
    }

    /// The longest period it may cover, in school years.
    pub fn max_years(self) -> i32 {
        match self {
            PlanKind::Pme | PlanKind::Pmi | PlanKind::Pam => 4,
            PlanKind::PlanNormativo => 1,
        }
    }
}

named_enum! {
    /// The phase a plan is in: `strategic` (the four-year strategic phase: diagnosis,
    /// self-assessment, strategic objectives and goals), `annual_planning`,
    /// `implementation` (implementation, monitoring and follow-up) or `evaluation`.
    #[schema(example = "implementation")]
    pub enum PlanPhase {
        Strategic => "strategic",
        AnnualPlanning => "annual_planning",
        Implementation => "implementation",
        Evaluation => "evaluation",
    }
}

named_enum! {
    /// A level of a plan's tree: `objective` (strategic objective), `goal` (strategic goal),
    /// `strategy`, `action` (annual action; *actividad* in a PMI).
    #[schema(example = "action")]
    pub enum PlanItemLevel {
        Objective => "objective",
        Goal => "goal",
        Strategy => "strategy",
        Action => "action",
    }
}

named_enum! {
    /// Where an action stands: `planned`, `in_progress`, `done` or `cancelled`.
    #[schema(example = "in_progress")]
    pub enum ActionStatus {
        Planned => "planned",
        InProgress => "in_progress",
        Done => "done",
        Cancelled => "cancelled",
    }
}

impl ActionStatus {
    /// Whether the action is over (done or cancelled), so neither late nor behind.
    pub fn is_closed(self) -> bool {
        matches!(self, ActionStatus::Done | ActionStatus::Cancelled)
    }
}

named_enum! {
    /// Where an action's money comes from: `sep` (Subvención Escolar Preferencial), `pie`
    /// (Programa de Integración Escolar), `subvencion_general`, `sostenedor` (the sostenedor's
    /// own funds), `sgp` (Colombia's Sistema General de Participaciones), `other`.
    #[schema(example = "sep")]
    pub enum FundingSource {
        Sep => "sep",
        Pie => "pie",
        SubvencionGeneral => "subvencion_general",
        Sostenedor => "sostenedor",
        Sgp => "sgp",
        Other => "other",
    }
}

named_enum! {
    /// What a link joins a plan's item to. From an action: `sello` (a sello of the school's
    /// PEI), `plan_normativo` (a plan of the planes normativos catalogue), `network_objective`
    /// (an objective of a network the school belongs to), `agreement` (a session agreement),
    /// `improvement_cycle` (a short-cycle improvement plan), `supports` (from a PAM's action to
    /// an item of a PMI of one of the Secretaría's schools). From a goal: `indicator`.
    #[schema(example = "sello")]
    pub enum LinkType {
        Sello => "sello",
        PlanNormativo => "plan_normativo",
        Indicator => "indicator",
        NetworkObjective => "network_objective",
        Agreement => "agreement",
        ImprovementCycle => "improvement_cycle",
        Supports => "supports",
    }
}

impl LinkType {
    /// The level of the item a link of this type starts from.
    pub fn source_level(self) -> PlanItemLevel {
        match self {
            LinkType::Indicator => PlanItemLevel::Goal,
            _ => PlanItemLevel::Action,
        }
    }
}

named_enum! {
    /// Where a short-cycle improvement plan stands: `active`, `completed` or `abandoned`.
    #[schema(example = "active")]
    pub enum CycleStatus {
        Active => "active",
        Completed => "completed",
        Abandoned => "abandoned",
    }
}

named_enum! {
    /// What a PDSA cycle's *act* decided about the change: `adopt` it, `adapt` it (and test
    /// again) or `abandon` it.
    #[schema(example = "adapt")]
    pub enum PdsaDecision {
        Adopt => "adopt",
        Adapt => "adapt",
        Abandon => "abandon",
    }
}

named_enum! {
    /// Who a mentoring visit accompanies: a school's `director` or a `teacher`.
    #[schema(example = "director")]
    pub enum MenteeRole {
        Director => "director",
        Teacher => "teacher",
    }
}

named_enum! {
    /// The representation of a report: `json` (the default) or `csv`.
    #[schema(example = "csv")]
    pub enum ReportFormat {
        Json => "json",
        Csv => "csv",
    }
}
