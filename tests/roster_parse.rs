//! Reading the roster files: the good files systems and spreadsheets produce, and every kind
//! of problem, each with its exact message.

use chrono::NaiveDate;
use loggkoll::roster::{
    Account, Person, Role, RoleAssignment, Roster, Unit, parse_roster, parse_roster_from,
};
use loggkoll::{Error, ErrorKind};
use proptest::prelude::*;
use std::path::Path;

const UNITS: &str = "\
unit_id,name,parent_id
VO,Vård och omsorg,
AO-NORD,Affärsområde Nord,VO
HT-VAST,Hemtjänst Väst,AO-NORD
";

const PEOPLE_HEADER: &str = "person_id,name,email,units,roles,accounts,active_from,active_to\n";

fn people(rows: &str) -> String {
    format!("{PEOPLE_HEADER}{rows}")
}

fn parse(units: &str, people: &str) -> Result<Roster, Error> {
    parse_roster_from(
        "units.csv",
        units.as_bytes(),
        "people.csv",
        people.as_bytes(),
    )
}

/// The files are refused with exactly these lines.
fn check(units: &str, people: &str, expected: &[&str]) {
    match parse(units, people) {
        Ok(roster) => panic!("accepted, expected {expected:#?}\n{roster:#?}"),
        Err(error) => {
            assert_eq!(error.kind, ErrorKind::BadInput);
            let lines: Vec<&str> = error.message.lines().collect();
            assert_eq!(lines, expected);
        }
    }
}

/// The people rows are refused with exactly these lines.
fn check_people(rows: &str, expected: &[&str]) {
    check(UNITS, &people(rows), expected);
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid date")
}

fn unit(id: &str, name: &str, parent: Option<&str>) -> Unit {
    Unit {
        id: id.into(),
        name: name.into(),
        parent: parent.map(Into::into),
    }
}

fn role(role: Role, unit: &str) -> RoleAssignment {
    RoleAssignment {
        role,
        unit: unit.into(),
    }
}

fn account(system: &str, account: &str) -> Account {
    Account {
        system: system.into(),
        account: account.into(),
    }
}

/// What every variant of `tests/fixtures/roster/*/` holds.
fn fixture_roster() -> Roster {
    Roster {
        units: vec![
            unit("HT-VAST", "Hemtjänst Väst", Some("AO-NORD")),
            unit("VO", "Vård och omsorg", None),
            unit("AO-NORD", "Affärsområde Nord", Some("VO")),
            unit("SÄBO-EK", "Säbo Eken", Some("AO-NORD")),
        ],
        people: vec![
            Person {
                id: "anbe01".into(),
                name: "Anna Berg".into(),
                email: "anna.berg@example.se".into(),
                title: None,
                units: vec!["HT-VAST".into()],
                roles: vec![role(Role::UnitManager, "HT-VAST")],
                accounts: vec![
                    account("npo", "SE2120000000-A1B2"),
                    account("treserva", "anbe01"),
                ],
                active_from: Some(date(2020, 1, 1)),
                active_to: None,
                personnummer: None,
            },
            Person {
                id: "bosv02".into(),
                name: "Bo Svensson, jr".into(),
                email: "bo.svensson@example.se".into(),
                title: None,
                units: vec!["HT-VAST".into(), "SÄBO-EK".into()],
                roles: vec![],
                accounts: vec![account("treserva", "bosv02")],
                active_from: Some(date(2025, 3, 1)),
                active_to: Some(date(2026, 12, 31)),
                personnummer: None,
            },
            Person {
                id: "ceda03".into(),
                name: "Cecilia Dahl".into(),
                email: "cecilia.dahl@example.se".into(),
                title: None,
                units: vec!["AO-NORD".into()],
                roles: vec![
                    role(Role::BusinessAreaManager, "AO-NORD"),
                    role(Role::HrStrategist, "VO"),
                ],
                accounts: vec![],
                active_from: None,
                active_to: None,
                personnummer: None,
            },
            Person {
                id: "dael04".into(),
                name: "Dan Ek".into(),
                email: "dan.ek@example.se".into(),
                title: None,
                units: vec!["VO".into()],
                roles: vec![
                    role(Role::Sas, "VO"),
                    role(Role::Mas, "VO"),
                    role(Role::OperationsManager, "VO"),
                ],
                accounts: vec![account("npo", "SE2120000000-D4E5")],
                active_from: None,
                active_to: None,
                personnummer: None,
            },
        ],
    }
}

fn fixture(variant: &str) -> Result<Roster, Error> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/roster")
        .join(variant);
    parse_roster(&dir.join("units.csv"), &dir.join("people.csv"))
}

#[test]
fn good_files_with_bom() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/roster/bom/people.csv"),
    )
    .expect("fixture");
    assert!(
        bytes.starts_with(b"\xef\xbb\xbf"),
        "the fixture lost its BOM"
    );
    assert_eq!(fixture("bom"), Ok(fixture_roster()));
}

#[test]
fn good_files_with_semicolons_and_quoted_lists() {
    assert_eq!(fixture("semicolon"), Ok(fixture_roster()));
}

#[test]
fn good_files_with_crlf() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/roster/crlf/units.csv"),
    )
    .expect("fixture");
    assert!(bytes.ends_with(b"\r\n"), "the fixture lost its CRLF");
    assert_eq!(fixture("crlf"), Ok(fixture_roster()));
}

/// What Excel on a Swedish Windows saves as "CSV UTF-8": BOM, `;`, CRLF.
#[test]
fn good_files_as_excel_saves_them() {
    assert_eq!(fixture("excel"), Ok(fixture_roster()));
}

#[test]
fn lists_tolerate_blanks_empty_items_and_repeats() {
    let roster = parse(
        UNITS,
        &people(
            "anbe01,Anna,anna@example.se, HT-VAST ; VO;;HT-VAST; ,unit_manager@HT-VAST;unit_manager@HT-VAST,\
             npo:A ; npo:A,,\n",
        ),
    )
    .expect("accepted");
    let anna = &roster.people[0];
    assert_eq!(anna.units, ["HT-VAST", "VO"]);
    assert_eq!(anna.roles, [role(Role::UnitManager, "HT-VAST")]);
    assert_eq!(anna.accounts, [account("npo", "A")]);
}

#[test]
fn empty_required_fields() {
    check(
        "unit_id,name,parent_id\nVO,Vård och omsorg,\n,Namnlös,VO\nAO,,VO\n",
        &people(",Anna,anna@example.se,VO,,,,\nbo,,,VO,,,,\n"),
        &[
            "units.csv:3: field `unit_id`: must not be empty",
            "units.csv:4: field `name`: must not be empty",
            "people.csv:2: field `person_id`: must not be empty",
            "people.csv:3: field `name`: must not be empty",
            "people.csv:3: field `email`: must not be empty",
        ],
    );
}

#[test]
fn ids_that_cannot_be_referred_to() {
    check(
        "unit_id,name,parent_id\nHemtjänst Väst,Hemtjänst Väst,\n",
        &people("anna berg,Anna,anna@example.se,,,,,\n"),
        &[
            "units.csv:2: field `unit_id`: `Hemtjänst Väst` is not a valid id (it may not contain spaces or `;`)",
            "people.csv:2: field `person_id`: `anna berg` is not a valid id (it may not contain spaces or `;`)",
        ],
    );
}

#[test]
fn a_value_with_a_line_break_is_shown_on_one_line() {
    check(
        "unit_id,name,parent_id\n\"A\nB\",Namn,\n",
        &people(""),
        &[
            "units.csv:2: field `unit_id`: `A\\nB` is not a valid id (it may not contain spaces or `;`)",
        ],
    );
}

#[test]
fn duplicate_ids_name_the_first_line() {
    check(
        &format!("{UNITS}\nVO,Vård och omsorg igen,\n"),
        &people(
            "anbe01,Anna,anna@example.se,VO,,,,\nbosv02,Bo,bo@example.se,VO,,,,\n\
             anbe01,Anna igen,anna@example.se,VO,,,,\n",
        ),
        &[
            "units.csv:6: field `unit_id`: `VO` is already defined on line 2",
            "people.csv:4: field `person_id`: `anbe01` is already defined on line 2",
        ],
    );
}

#[test]
fn unknown_parent() {
    check(
        "unit_id,name,parent_id\nHT,Hemtjänst,AO-NRD\nAO-NORD,Nord,\nX,X,QQQQQ\n",
        &people(""),
        &[
            "units.csv:2: field `parent_id`: unknown unit `AO-NRD` (did you mean `AO-NORD`?)",
            "units.csv:4: field `parent_id`: unknown unit `QQQQQ`",
        ],
    );
}

#[test]
fn cycles_in_the_unit_tree_are_named_once_each() {
    check(
        "unit_id,name,parent_id\nTOP,Top,\nA,A,C\nB,B,A\nC,C,B\nD,D,D\nE,E,A\n",
        &people("anbe01,Anna,anna@example.se,E,unit_manager@B,,,\n"),
        &[
            "units.csv:3: field `parent_id`: the parents form a cycle: `A` -> `C` -> `B` -> `A`",
            "units.csv:6: field `parent_id`: the parents form a cycle: `D` -> `D`",
        ],
    );
}

/// The walk from `X` enters the cycle at `C`; the cycle is still told from its first unit.
#[test]
fn cycle_entered_from_below_starts_at_its_first_line() {
    check(
        "unit_id,name,parent_id\nX,X,C\nA,A,C\nC,C,A\n",
        &people(""),
        &["units.csv:3: field `parent_id`: the parents form a cycle: `A` -> `C` -> `A`"],
    );
}

#[test]
fn unknown_units_of_a_person() {
    check_people(
        "anbe01,Anna,anna@example.se,HT-VST;VO,,,,\n\
         bosv02,Bo,bo@example.se,\"VO,AO-NORD\",,,,\n",
        &[
            "people.csv:2: field `units`: unknown unit `HT-VST` (did you mean `HT-VAST`?)",
            "people.csv:3: field `units`: unknown unit `VO,AO-NORD` (separate several units with `;`)",
        ],
    );
}

#[test]
fn roles() {
    check_people(
        "anbe01,Anna,anna@example.se,VO,unit_manager;@VO;sas@;unit_manger@VO;boss@VO;mas@HT-VST,,,\n",
        &[
            "people.csv:2: field `roles`: `unit_manager` is not `role@unit_id`",
            "people.csv:2: field `roles`: `@VO` is not `role@unit_id`",
            "people.csv:2: field `roles`: `sas@` is not `role@unit_id`",
            "people.csv:2: field `roles`: unknown role `unit_manger` (did you mean `unit_manager`?)",
            "people.csv:2: field `roles`: unknown role `boss` (expected one of `unit_manager`, \
             `operations_manager`, `deputy_operations_manager`, `hr_strategist`, \
             `business_area_manager`, `sas`, `mas`)",
            "people.csv:2: field `roles`: unknown unit `HT-VST` (did you mean `HT-VAST`?)",
        ],
    );
}

#[test]
fn accounts() {
    check_people(
        "anbe01,Anna,anna@example.se,VO,,npo;npo:;:anbe01;NPO:SE1;2x:y,,\n",
        &[
            "people.csv:2: field `accounts`: `npo` is not `system:account`",
            "people.csv:2: field `accounts`: `npo:` is not `system:account`",
            "people.csv:2: field `accounts`: `:anbe01` is not `system:account`",
            "people.csv:2: field `accounts`: system `NPO` is not a lowercase identifier (did you mean `npo`?)",
            "people.csv:2: field `accounts`: system `2x` is not a lowercase identifier",
        ],
    );
}

#[test]
fn an_account_held_by_two_people() {
    check_people(
        "anbe01,Anna,anna@example.se,VO,,npo:SE1;treserva:anbe01,,\n\
         bosv02,Bo,bo@example.se,VO,,treserva:bosv02;npo:SE1,,\n\
         cecilia,Cecilia,cecilia@example.se,VO,,npo:SE2;treserva:anbe01,,\n",
        &[
            "people.csv:3: field `accounts`: `npo:SE1` already belongs to `anbe01` (line 2)",
            "people.csv:4: field `accounts`: `treserva:anbe01` already belongs to `anbe01` (line 2)",
        ],
    );
}

#[test]
fn the_same_account_name_in_two_systems_is_two_accounts() {
    let roster = parse(
        UNITS,
        &people(
            "anbe01,Anna,anna@example.se,VO,,npo:anbe01,,\n\
             other,Other,other@example.se,VO,,treserva:anbe01,,\n",
        ),
    );
    assert!(roster.is_ok(), "{roster:?}");
}

#[test]
fn email_without_at() {
    check_people(
        "anbe01,Anna,anna.example.se,VO,,,,\nbosv02,Bo,bo@example.se,VO,,,,\n",
        &["people.csv:2: field `email`: `anna.example.se` is not an email address"],
    );
}

#[test]
fn bad_dates() {
    check_people(
        "anbe01,Anna,anna@example.se,VO,,,2026-13-01,\n\
         bosv02,Bo,bo@example.se,VO,,,,31/12/2026\n\
         ceda03,Cecilia,cecilia@example.se,VO,,,2026-02-01,2026-01-31\n\
         dael04,Dan,dan@example.se,VO,,,2026-02-01,2026-02-01\n",
        &[
            "people.csv:2: field `active_from`: `2026-13-01` is not a date (expected YYYY-MM-DD)",
            "people.csv:3: field `active_to`: `31/12/2026` is not a date (expected YYYY-MM-DD)",
            "people.csv:4: field `active_to`: `2026-01-31` is before `active_from` (`2026-02-01`)",
        ],
    );
}

#[test]
fn header_problems() {
    check(
        "unit_id,name\nVO,Vård och omsorg\n",
        "person_id,name,emial,units,roles,accounts,active_from,active_to,extra\n",
        &[
            "units.csv:1: missing column `parent_id`",
            "people.csv:1: unknown column `emial` (did you mean `email`?)",
            "people.csv:1: unknown column `extra` (expected one of `person_id`, `name`, `email`, \
             `units`, `roles`, `accounts`, `active_from`, `active_to`, `personnummer`, `title`)",
            "people.csv:1: missing column `email`",
        ],
    );
}

/// With the units unreadable, references to units are not checked: one problem, not one per
/// person.
#[test]
fn unreadable_units_do_not_flood_the_people() {
    check(
        "",
        &people("anbe01,Anna,anna@example.se,VO,unit_manager@VO,,,\nbosv02,Bo,bo,VO,,,,\n"),
        &[
            "units.csv: the file is empty (expected a header line: unit_id,name,parent_id)",
            "people.csv:3: field `email`: `bo` is not an email address",
        ],
    );
}

#[test]
fn rows_that_cannot_be_read() {
    check(
        "unit_id;name;parent_id\nVO;Vård och omsorg;\nHT;Hemtjänst;VO;x\n",
        &people("anbe01,Anna,anna@example.se,VO,,,\nbosv02,Bo,\"bo@example.se,VO,,,,\n"),
        &[
            "units.csv:3: expected 3 fields as in the header, found 4 (a value that contains `;` must be in double quotes)",
            "people.csv:2: expected 8 fields as in the header, found 7",
            "people.csv:3: field `email`: the quoted value is never closed (a `\"` is missing)",
        ],
    );
}

#[test]
fn invalid_utf8_is_refused_at_its_line() {
    let people = b"person_id,name,email,units,roles,accounts,active_from,active_to\n\
                   anbe01,Anna,anna@example.se,VO,,,,\n\
                   bosv02,Bo \xc5berg,bo@example.se,VO,,,,\n";
    let error = parse_roster_from("units.csv", UNITS.as_bytes(), "people.csv", &people[..])
        .expect_err("refused");
    assert_eq!(
        error.message,
        "people.csv:3: not valid UTF-8 (save the file as UTF-8)"
    );
}

#[test]
fn line_numbers_after_a_quoted_multi_line_field() {
    check_people(
        "anbe01,\"Anna\nBerg\",anna@example.se,VO,,,,\n\
         \n\
         bosv02,Bo,bo.example.se,VO,,\"npo:A;\r\ntreserva:b\",,\n\
         ceda03,Cecilia,cecilia.example.se,VO,,,,\n",
        &[
            // A name may not break lines (issue 12: it would break the email headers).
            "people.csv:2: field `name`: contains a control character (a line break or a tab); write it on one line",
            "people.csv:5: field `email`: `bo.example.se` is not an email address",
            "people.csv:7: field `email`: `cecilia.example.se` is not an email address",
        ],
    );
}

#[test]
fn problems_are_sorted_by_file_then_line() {
    // The unknown parent on line 2 is found after the empty id on line 3 was.
    check(
        "unit_id,name,parent_id\nHT,Hemtjänst,NOPE\n,X,\n",
        &people("anbe01,Anna,anna,HT,,,,\n"),
        &[
            "units.csv:2: field `parent_id`: unknown unit `NOPE`",
            "units.csv:3: field `unit_id`: must not be empty",
            "people.csv:2: field `email`: `anna` is not an email address",
        ],
    );
}

#[test]
fn many_problems_are_capped() {
    let rows: String = (1..=60)
        .map(|n| format!("p{n},Person {n},p{n}.example.se,VO,,,,\n"))
        .collect();
    let error = parse(UNITS, &people(&rows)).expect_err("refused");
    let lines: Vec<&str> = error.message.lines().collect();
    assert_eq!(lines.len(), 51);
    assert_eq!(
        lines[0],
        "people.csv:2: field `email`: `p1.example.se` is not an email address"
    );
    assert_eq!(
        lines[49],
        "people.csv:51: field `email`: `p50.example.se` is not an email address"
    );
    assert_eq!(lines[50], "and 10 more errors");
}

#[test]
fn missing_files_are_bad_input_named_as_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let units = dir.path().join("units.csv");
    let people = dir.path().join("people.csv");
    let error = parse_roster(&units, &people).expect_err("refused");
    assert_eq!(error.kind, ErrorKind::BadInput);
    assert_eq!(error.exit_code(), 2);
    assert_eq!(
        error.message,
        format!(
            "{}: no such file\n{}: no such file",
            units.display(),
            people.display()
        )
    );

    std::fs::write(&units, UNITS).expect("write");
    std::fs::write(&people, people_text()).expect("write");
    let roster = parse_roster(&units, &people).expect("accepted");
    assert_eq!(roster.units.len(), 3);
    assert_eq!(roster.people.len(), 1);
}

fn people_text() -> String {
    people("anbe01,Anna,anna@example.se,HT-VAST,,,,\n")
}

#[test]
fn ancestors_nearest_first() {
    let roster = fixture_roster();
    let ids = |unit: &str| -> Vec<&str> {
        roster
            .ancestors(unit)
            .map(|unit| unit.id.as_str())
            .collect()
    };
    assert_eq!(ids("HT-VAST"), ["AO-NORD", "VO"]);
    assert_eq!(ids("SÄBO-EK"), ["AO-NORD", "VO"]);
    assert_eq!(ids("VO"), Vec::<&str>::new());
    assert_eq!(ids("NOPE"), Vec::<&str>::new());
}

#[test]
fn ancestors_of_a_hand_made_cycle_end() {
    let roster = Roster {
        units: vec![unit("A", "A", Some("B")), unit("B", "B", Some("A"))],
        people: vec![],
    };
    assert_eq!(roster.ancestors("A").count(), 2);
}

#[test]
fn role_holders_are_found_up_the_tree() {
    let roster = fixture_roster();
    let on = date(2026, 3, 1);
    let found = |role: Role, unit: &str| -> Option<(String, Vec<String>)> {
        roster.role_holders(role, unit, on).map(|(unit, people)| {
            (
                unit.id.clone(),
                people.iter().map(|person| person.id.clone()).collect(),
            )
        })
    };
    let at = |unit: &str, people: &[&str]| {
        Some((
            unit.to_string(),
            people.iter().map(|person| person.to_string()).collect(),
        ))
    };
    assert_eq!(
        found(Role::UnitManager, "HT-VAST"),
        at("HT-VAST", &["anbe01"])
    );
    assert_eq!(found(Role::UnitManager, "SÄBO-EK"), None);
    assert_eq!(
        found(Role::BusinessAreaManager, "SÄBO-EK"),
        at("AO-NORD", &["ceda03"])
    );
    assert_eq!(found(Role::Sas, "HT-VAST"), at("VO", &["dael04"]));
    assert_eq!(found(Role::DeputyOperationsManager, "HT-VAST"), None);
    assert_eq!(found(Role::Sas, "NOPE"), None);
}

#[test]
fn role_holders_skip_people_not_active_that_day() {
    let roster = parse(
        UNITS,
        &people(
            "old,Old,old@example.se,HT-VAST,unit_manager@HT-VAST,,2020-01-01,2025-12-31\n\
             new,New,new@example.se,HT-VAST,unit_manager@HT-VAST,,2026-02-01,\n\
             boss,Boss,boss@example.se,AO-NORD,unit_manager@AO-NORD,,,\n",
        ),
    )
    .expect("accepted");
    let holders = |day: NaiveDate| -> Vec<String> {
        let (unit, people) = roster
            .role_holders(Role::UnitManager, "HT-VAST", day)
            .expect("somebody");
        let mut names = vec![unit.id.clone()];
        names.extend(people.iter().map(|person| person.id.clone()));
        names
    };
    assert_eq!(holders(date(2025, 12, 31)), ["HT-VAST", "old"]);
    assert_eq!(holders(date(2026, 1, 15)), ["AO-NORD", "boss"]);
    assert_eq!(holders(date(2026, 2, 1)), ["HT-VAST", "new"]);
}

#[test]
fn person_helpers() {
    let roster = fixture_roster();
    let bo = roster.person("bosv02").expect("bo");
    assert_eq!(bo.home_unit(), Some("HT-VAST"));
    assert!(!bo.is_active_on(date(2025, 2, 28)));
    assert!(bo.is_active_on(date(2025, 3, 1)));
    assert!(bo.is_active_on(date(2026, 12, 31)));
    assert!(!bo.is_active_on(date(2027, 1, 1)));
    assert_eq!(bo.accounts_in("treserva").count(), 1);
    assert_eq!(bo.accounts_in("npo").count(), 0);
    let ceda = roster.person("ceda03").expect("cecilia");
    assert!(ceda.holds(Role::HrStrategist, "VO"));
    assert!(!ceda.holds(Role::HrStrategist, "AO-NORD"));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        units in proptest::collection::vec(any::<u8>(), 0..200),
        people in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let _ = parse_roster_from("units.csv", &units[..], "people.csv", &people[..]);
    }

    /// Well-formed headers and rows of near-miss values reach every check.
    #[test]
    fn arbitrary_rows_never_panic(
        units in proptest::collection::vec("[A-C]{0,2},[a-z ]{0,3},[A-C;]{0,2}", 0..6),
        people in proptest::collection::vec(
            "[a-c]{0,2},[a-z]{0,2},[a-z@.]{0,4},[A-C;,]{0,4},[a-z_@A-C;]{0,12},[a-z:A-C;]{0,6},[0-9-]{0,10},[0-9-]{0,10}",
            0..6,
        ),
    ) {
        let units = format!("unit_id,name,parent_id\n{}\n", units.join("\n"));
        let people = format!("{PEOPLE_HEADER}{}\n", people.join("\n"));
        if let Err(error) = parse(&units, &people) {
            prop_assert_eq!(error.kind, ErrorKind::BadInput);
            prop_assert!(!error.message.is_empty());
        }
    }
}
