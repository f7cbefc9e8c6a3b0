//! Schools (*establecimientos educacionales*): Mineduc's and MEN's classifications.

named_enum! {
    /// Chile's administrative dependency of a school (Mineduc `COD_DEPE`):
    /// `corporacion_municipal` (1), `municipal_daem` (2), `particular_subvencionado` (3),
    /// `particular_pagado` (4), `administracion_delegada` (5), `slep` (6, Servicio Local de
    /// Educación Pública).
    #[schema(example = "municipal_daem")]
    pub enum Dependency {
        CorporacionMunicipal => "corporacion_municipal",
        MunicipalDaem => "municipal_daem",
        ParticularSubvencionado => "particular_subvencionado",
        ParticularPagado => "particular_pagado",
        AdministracionDelegada => "administracion_delegada",
        Slep => "slep",
    }
}

impl Dependency {
    /// Mineduc's `COD_DEPE`.
    pub fn code(self) -> u8 {
        match self {
            Dependency::CorporacionMunicipal => 1,
            Dependency::MunicipalDaem => 2,
            Dependency::ParticularSubvencionado => 3,
            Dependency::ParticularPagado => 4,
            Dependency::AdministracionDelegada => 5,
            Dependency::Slep => 6,
        }
    }

    /// Whether the dependency is public (municipal or SLEP).
    pub fn is_public(self) -> bool {
        matches!(
            self,
            Dependency::CorporacionMunicipal | Dependency::MunicipalDaem | Dependency::Slep
        )
    }
}

named_enum! {
    /// A teaching level a Chilean school offers (Mineduc `COD_ENSE2`): `parvularia` (1),
    /// `basica_ninos` (2), `basica_adultos` (3), `especial` (4), `media_hc_jovenes` (5,
    /// humanístico-científica), `media_hc_adultos` (6), `media_tp_jovenes` (7,
    /// técnico-profesional y artística), `media_tp_adultos` (8).
    #[schema(example = "basica_ninos")]
    pub enum TeachingLevel {
        Parvularia => "parvularia",
        BasicaNinos => "basica_ninos",
        BasicaAdultos => "basica_adultos",
        Especial => "especial",
        MediaHcJovenes => "media_hc_jovenes",
        MediaHcAdultos => "media_hc_adultos",
        MediaTpJovenes => "media_tp_jovenes",
        MediaTpAdultos => "media_tp_adultos",
    }
}

named_enum! {
    /// The state of a Chilean school (Mineduc `ESTADO_ESTAB`): `funcionando` (1), `en_receso`
    /// (2), `cerrado` (3), `autorizado_sin_matricula` (4).
    #[schema(example = "funcionando")]
    pub enum SchoolStatus {
        Funcionando => "funcionando",
        EnReceso => "en_receso",
        Cerrado => "cerrado",
        AutorizadoSinMatricula => "autorizado_sin_matricula",
    }
}

named_enum! {
    /// The sector of a Colombian establishment: `oficial` (public) or `no_oficial` (private).
    #[schema(example = "oficial")]
    pub enum Sector {
        Oficial => "oficial",
        NoOficial => "no_oficial",
    }
}

named_enum! {
    /// Urban or rural zone of a Colombian sede.
    #[schema(example = "urbana")]
    pub enum Zone {
        Urbana => "urbana",
        Rural => "rural",
    }
}
