//! Networks of schools and their members.

named_enum! {
    /// The kind of network: `red_mejoramiento_escolar` (Chile's *Red de Mejoramiento Escolar*,
    /// RME), `comunidad_profesional_aprendizaje` (a professional learning community),
    /// `red_secretarias` (a cohort of Colombian Secretarías de Educación), `other` (an alliance
    /// such as a leadership centre's territorial partnership).
    #[schema(example = "red_mejoramiento_escolar")]
    pub enum NetworkKind {
        RedMejoramientoEscolar => "red_mejoramiento_escolar",
        ComunidadProfesionalAprendizaje => "comunidad_profesional_aprendizaje",
        RedSecretarias => "red_secretarias",
        Other => "other",
    }
}

named_enum! {
    /// Whether the network works: `active`, `paused` or `closed`, since `status_since`.
    #[schema(example = "active")]
    pub enum NetworkStatus {
        Active => "active",
        Paused => "paused",
        Closed => "closed",
    }
}

named_enum! {
    /// A member's role in the network: `member_school`, `host` (a school that hosts the
    /// sessions), `director`, `utp` (jefe técnico), `coordinator`, `supervisor` (DEPROV),
    /// `sostenedor_representative`, `invited`, `external_partner` (an NGO, a company),
    /// `member_organization` (a Secretaría in a cohort, a sostenedor in an alliance).
    #[schema(example = "member_school")]
    pub enum MemberRole {
        MemberSchool => "member_school",
        Host => "host",
        Director => "director",
        Utp => "utp",
        Coordinator => "coordinator",
        Supervisor => "supervisor",
        SostenedorRepresentative => "sostenedor_representative",
        Invited => "invited",
        ExternalPartner => "external_partner",
        MemberOrganization => "member_organization",
    }
}

named_enum! {
    /// What a member is: a `school` or an `organization`.
    #[schema(example = "school")]
    pub enum MemberKind {
        School => "school",
        Organization => "organization",
    }
}
