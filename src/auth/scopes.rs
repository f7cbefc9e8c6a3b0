//! Scopes, as marker types so that a handler's required scope is in its signature:
//! `auth: Authorized<TerritoriesRead>`.

/// A scope a route requires.
pub trait Scope {
    const NAME: &'static str;
}

macro_rules! scopes {
    ($($(#[$doc:meta])* $marker:ident => $name:literal;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $marker;

            impl Scope for $marker {
                const NAME: &'static str = $name;
            }
        )*

        /// Every scope Redes knows, for documentation and token minting.
        pub const ALL: &[&str] = &[$($name),*];
    };
}

scopes! {
    /// Read the territory catalogue.
    TerritoriesRead => "territories:read";
    /// Read organisations in the caller's territories.
    OrganizationsRead => "organizations:read";
    /// Create, change and delete organisations in the caller's territories.
    OrganizationsWrite => "organizations:write";
    /// Read schools in the caller's territories.
    SchoolsRead => "schools:read";
    /// Create, change and delete schools in the caller's territories.
    SchoolsWrite => "schools:write";
    /// Read networks visible in the caller's territories, with their members.
    NetworksRead => "networks:read";
    /// Create, change and delete networks in the caller's territories, and their members.
    NetworksWrite => "networks:write";
    /// Read people (personal data) in the caller's territories.
    PeopleRead => "people:read";
    /// Create, change and delete people in the caller's territories.
    PeopleWrite => "people:write";
    /// Read the sessions of the networks the caller sees.
    SessionsRead => "sessions:read";
    /// Create, change and delete sessions of networks in the caller's territories.
    SessionsWrite => "sessions:write";
    /// Read plans and the management catalogues.
    PlansRead => "plans:read";
    /// Write the plans (PEI, PME) of schools in the caller's territories.
    PlansWrite => "plans:write";
    /// Add items to the management catalogues and remove those added (national principals).
    CataloguesAdmin => "catalogues:admin";
    /// Read indicator definitions, and indicator values in the caller's territories.
    IndicatorsRead => "indicators:read";
    /// Record, change and delete indicator values in the caller's territories.
    IndicatorsWrite => "indicators:write";
    /// Add indicator definitions and remove those added (principals of the definition's
    /// whole country).
    IndicatorsAdmin => "indicators:admin";
    /// Import indicator values in bulk (`POST /api/v1/indicator-values:import`), in the
    /// caller's territories.
    IndicatorsImport => "indicators:import";
    /// Read the change journal of the caller's territories.
    ChangesRead => "changes:read";
    /// Read the API clients whose territories are all within the caller's.
    ClientsRead => "clients:read";
    /// Create, change, rotate the secret of and revoke API clients within the caller's
    /// territories, granting at most the caller's own scopes.
    ClientsWrite => "clients:write";
    /// Read the audit log of the caller's territories (who wrote what, personal data masked).
    AuditRead => "audit:read";
}
