//! Domain types and rules: parsing and validation of the values Redes receives, with no I/O.

/// An enum whose values travel as fixed strings (`municipal_daem`, `funcionando`): serde,
/// OpenAPI schema, `NAMES` for error messages and `FromStr` all from one list.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident => $text:literal),+ $(,)?
        }
    ) => {
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
            utoipa::ToSchema,
        )]
        $(#[$meta])*
        // Every wire name is the snake_case of its variant (a test checks them against the
        // listed names): utoipa does not see a `rename` whose value comes from a macro.
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = ();

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

    };
}

#[cfg(test)]
mod tests {
    use super::network::{MemberKind, MemberRole, NetworkKind, NetworkStatus};
    use super::organization::{OrganizationKind, SecretariaLevel};
    use super::school::{Dependency, SchoolStatus, Sector, TeachingLevel, Zone};

    fn wire_names<T: serde::Serialize>(values: &[T]) -> Vec<String> {
        values
            .iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn wire_names_are_the_listed_names() {
        assert_eq!(wire_names(OrganizationKind::ALL), OrganizationKind::NAMES);
        assert_eq!(wire_names(SecretariaLevel::ALL), SecretariaLevel::NAMES);
        assert_eq!(wire_names(Dependency::ALL), Dependency::NAMES);
        assert_eq!(wire_names(TeachingLevel::ALL), TeachingLevel::NAMES);
        assert_eq!(wire_names(SchoolStatus::ALL), SchoolStatus::NAMES);
        assert_eq!(wire_names(Sector::ALL), Sector::NAMES);
        assert_eq!(wire_names(Zone::ALL), Zone::NAMES);
        assert_eq!(wire_names(NetworkKind::ALL), NetworkKind::NAMES);
        assert_eq!(wire_names(NetworkStatus::ALL), NetworkStatus::NAMES);
        assert_eq!(wire_names(MemberRole::ALL), MemberRole::NAMES);
        assert_eq!(wire_names(MemberKind::ALL), MemberKind::NAMES);
    }
}

pub mod codes;
pub mod indicator;
pub mod journal;
pub mod network;
pub mod organization;
pub mod period;
pub mod plan;
pub mod school;
pub mod territory;
pub mod text;

pub use territory::{Country, TerritoryKey, TerritoryLevel, TerritoryRef};
