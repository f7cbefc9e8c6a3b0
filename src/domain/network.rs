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
    /// What a member is: a `school`, an `organization` or a `person`.
    #[schema(example = "school")]
    pub enum MemberKind {
        School => "school",
        Organization => "organization",
        Person => "person",
    }
}

named_enum! {
    /// A person's position at a school or an organisation: `director`, `utp` (jefe técnico),
    /// `docente`, `supervisor_deprov`, `sostenedor_staff`, `funcionario_secretaria`,
    /// `equipo_psicosocial`, `encargado_convivencia`, `coordinador_pie`, `mentor`,
    /// `facilitador`, `other`.
    #[schema(example = "director")]
    pub enum Position {
        Director => "director",
        Utp => "utp",
        Docente => "docente",
        SupervisorDeprov => "supervisor_deprov",
        SostenedorStaff => "sostenedor_staff",
        FuncionarioSecretaria => "funcionario_secretaria",
        EquipoPsicosocial => "equipo_psicosocial",
        EncargadoConvivencia => "encargado_convivencia",
        CoordinadorPie => "coordinador_pie",
        Mentor => "mentor",
        Facilitador => "facilitador",
        Other => "other",
    }
}

named_enum! {
    /// How a session meets: `in_person`, `virtual` or `hybrid`.
    #[schema(example = "in_person")]
    pub enum Modality {
        InPerson => "in_person",
        Virtual => "virtual",
        Hybrid => "hybrid",
    }
}

named_enum! {
    /// Where a session stands: `planned`, `held` or `cancelled`.
    #[schema(example = "held")]
    pub enum SessionStatus {
        Planned => "planned",
        Held => "held",
        Cancelled => "cancelled",
    }
}

named_enum! {
    /// A person's attendance at a session: `present`, `absent` or `excused`.
    #[schema(example = "present")]
    pub enum AttendanceStatus {
        Present => "present",
        Absent => "absent",
        Excused => "excused",
    }
}

named_enum! {
    /// The role a head count counts: a person's position, or `participant` when the record
    /// does not say.
    #[schema(example = "participant")]
    pub enum ParticipantRole {
        Participant => "participant",
        Director => "director",
        Utp => "utp",
        Docente => "docente",
        SupervisorDeprov => "supervisor_deprov",
        SostenedorStaff => "sostenedor_staff",
        FuncionarioSecretaria => "funcionario_secretaria",
        EquipoPsicosocial => "equipo_psicosocial",
        EncargadoConvivencia => "encargado_convivencia",
        CoordinadorPie => "coordinador_pie",
        Mentor => "mentor",
        Facilitador => "facilitador",
        Other => "other",
    }
}

named_enum! {
    /// What a head count counts: `people`, or `organizations` (e.g. the Secretarías whose
    /// teams took part, when the record gives no head count).
    #[schema(example = "people")]
    pub enum CountUnit {
        People => "people",
        Organizations => "organizations",
    }
}

named_enum! {
    /// Where an agreement (*acuerdo*) stands: `open`, `done` or `dropped`.
    #[schema(example = "open")]
    pub enum AgreementStatus {
        Open => "open",
        Done => "done",
        Dropped => "dropped",
    }
}

named_enum! {
    /// What a piece of evidence is: `minutes` (acta), `attendance_sheet`, `presentation`,
    /// `photo`, `video`, `document`, `other`.
    #[schema(example = "minutes")]
    pub enum EvidenceKind {
        Minutes => "minutes",
        AttendanceSheet => "attendance_sheet",
        Presentation => "presentation",
        Photo => "photo",
        Video => "video",
        Document => "document",
        Other => "other",
    }
}
