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
