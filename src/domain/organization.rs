//! Organisations: sostenedores, DEPROV, Secretarías de Educación and ministries.

use super::{Country, TerritoryLevel};

named_enum! {
    /// The kind of organisation.
    ///
    /// Chilean *sostenedores*: `daem` (Departamento/Dirección de Educación Municipal),
    /// `corporacion_municipal`, `slep` (Servicio Local de Educación Pública), `particular`,
    /// `administracion_delegada`. Also in Chile: `deprov` (Departamento Provincial de Educación,
    /// Mineduc's supervision). In Colombia: `secretaria` (Secretaría de Educación of a certified
    /// territorial entity, ETC). Either country: `ministry` (Mineduc, MEN) and `centre` (a
    /// leadership or support centre such as C Líder, in any territory).
    #[schema(example = "daem")]
    pub enum OrganizationKind {
        Daem => "daem",
        CorporacionMunicipal => "corporacion_municipal",
        Slep => "slep",
        Particular => "particular",
        AdministracionDelegada => "administracion_delegada",
        Deprov => "deprov",
        Secretaria => "secretaria",
        Ministry => "ministry",
        Centre => "centre",
    }
}

named_enum! {
    /// The level of a certified territorial entity's Secretaría de Educación (Colombia):
    /// `departamental` (its territory is a departamento), `distrital` or `municipal` (a
    /// municipio).
    #[schema(example = "municipal")]
    pub enum SecretariaLevel {
        Departamental => "departamental",
        Distrital => "distrital",
        Municipal => "municipal",
    }
}

impl OrganizationKind {
    /// The country whose organisations have this kind; `None` for a ministry (either).
    pub fn country(self) -> Option<Country> {
        match self {
            OrganizationKind::Secretaria => Some(Country::Co),
            OrganizationKind::Ministry | OrganizationKind::Centre => None,
            _ => Some(Country::Cl),
        }
    }

    /// Whether a school can have an organisation of this kind as its sostenedor.
    pub fn is_sostenedor(self) -> bool {
        matches!(
            self,
            OrganizationKind::Daem
                | OrganizationKind::CorporacionMunicipal
                | OrganizationKind::Slep
                | OrganizationKind::Particular
                | OrganizationKind::AdministracionDelegada
        )
    }

    /// The territory levels an organisation of this kind may belong to.
    pub fn allowed_levels(self, secretaria: Option<SecretariaLevel>) -> &'static [TerritoryLevel] {
        use TerritoryLevel as L;
        match self {
            OrganizationKind::Daem | OrganizationKind::CorporacionMunicipal => &[L::Comuna],
            OrganizationKind::Slep
            | OrganizationKind::Particular
            | OrganizationKind::AdministracionDelegada
            | OrganizationKind::Deprov => &[L::Region, L::Provincia, L::Comuna],
            OrganizationKind::Ministry => &[L::Country],
            OrganizationKind::Centre => &L::ALL,
            OrganizationKind::Secretaria => match secretaria {
                Some(SecretariaLevel::Departamental) => &[L::Departamento],
                Some(SecretariaLevel::Distrital | SecretariaLevel::Municipal) => &[L::Municipio],
                None => &[L::Departamento, L::Municipio],
            },
        }
    }
}
