"""The sample opportunities: a deterministic, realistic set for demos and tests.

    python -m bulk_update.emulator.seeddata > samples/opportunities.json

Sixty-six records in the Sandbox catalog and six in AWS, covering every stage
and every review status of the model (every pair of the two, in Sandbox), all
valid under the model and the business rules.  Target close dates fall in
2027; creation and modification dates fall in 2026.  The same code gives the
same file every time: a fixed ``random.Random`` seed, no clock.
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

from botocore.model import StringShape

from .validation import output_shape

SANDBOX_COUNT = 66
AWS_COUNT = 6
FIRST_ID = 1_000_001

_COMPANIES = (
    ("Northwind Traders", "Retail", "northwind-traders.example.com"),
    ("Contoso Health", "Healthcare", "contoso-health.example.com"),
    ("Fabrikam Motors", "Automotive", "fabrikam-motors.example.com"),
    ("Tailspin Airways", "Travel", "tailspin-airways.example.com"),
    ("Wide World Importers", "Wholesale and Distribution", "wideworldimporters.example.com"),
    ("Adventure Works Cycles", "Consumer Goods", "adventure-works.example.com"),
    ("Litware Bank", "Financial Services", "litware-bank.example.com"),
    ("Proseware Learning", "Education", "proseware.example.edu"),
    ("Woodgrove Energy", "Energy - Power and Utilities", "woodgrove-energy.example.com"),
    ("Blue Yonder Games", "Gaming", "blueyonder-games.example.com"),
    ("City of Riverton", "Government", "riverton.example.gov"),
    ("Lucerne Publishing", "Media and Entertainment", "lucerne-publishing.example.com"),
    ("Margie's Travel", "Travel", "margies-travel.example.com"),
    ("Trey Research", "Life Sciences", "trey-research.example.com"),
    ("Coho Vineyard", "Agriculture", "coho-vineyard.example.com"),
    ("Alpine Ski House", "Hospitality", "alpineskihouse.example.com"),
    ("Humongous Insurance", "Financial Services", "humongous-insurance.example.com"),
    ("Graphic Design Institute", "Other", "graphicdesigninstitute.example.org"),
    ("State Department of Transit", "Government", "transit.example.gov"),
    ("Relecloud Telecom", "Telecommunications", "relecloud.example.net"),
    ("VanArsdel Manufacturing", "Manufacturing", "vanarsdel.example.com"),
    (
        "Consolidated Messenger",
        "Transportation and Logistics",
        "consolidated-messenger.example.com",
    ),
)
_PLACES = (
    ("Seattle", "WA", "98101", "US", "1200 Pine Street"),
    ("Austin", "TX", "78701", "US", "500 Congress Avenue"),
    ("Boston", "MA", "02139", "US", "77 Massachusetts Avenue"),
    ("Denver", "CO", "80202", "US", "1600 Glenarm Place"),
    ("Toronto", "Ontario", "M5H 2N2", "CA", "100 King Street West"),
    ("London", "England", "EC2A 4NE", "GB", "1 Finsbury Avenue"),
    ("Munich", "Bavaria", "80331", "DE", "Marienplatz 8"),
    ("Sydney", "New South Wales", "2000", "AU", "200 George Street"),
)
_TITLES_BY_NAME = {
    "Maria Garcia": "VP Engineering",
    "James Smith": "CTO",
    "Aiko Tanaka": "Head of Cloud",
    "Olivia Brown": "IT Director",
    "Noah Wilson": "Chief Data Officer",
    "Fatima Khan": "Procurement Lead",
}
_PEOPLE = tuple((*name.split(" "), title) for name, title in _TITLES_BY_NAME.items())
"""The customer contacts: (first name, last name, title)."""
_PROBLEMS = (
    "Their on-premises data centre lease ends next year and hardware is at end of life.",
    "Batch reporting takes nine hours nightly and blocks the finance close each month.",
    "Customer-facing portal cannot scale for seasonal peaks and suffered outages last year.",
    "Regulators require a tested disaster recovery plan with a four hour recovery objective.",
    "Data science team waits weeks for GPU capacity and wants managed training pipelines.",
    "Legacy ERP customisations make upgrades slow; they want to modernise integrations.",
)
_TITLES = (
    "Data centre exit",
    "Analytics modernisation",
    "Elastic web platform",
    "Disaster recovery",
    "Machine learning platform",
    "ERP integration refresh",
)
_NEXT_STEPS = (
    "Schedule architecture review with customer",
    "Send pricing estimate",
    "Run proof of concept kickoff",
    "Confirm budget with procurement",
    "Share migration plan draft",
)


def _enum(*path: str) -> list[str]:
    shape: Any = output_shape("GetOpportunity")
    for name in path:
        shape = shape.members[name]
        while shape.type_name == "list":
            shape = shape.member
    assert isinstance(shape, StringShape)
    return list(shape.enum)


def _stamp(rng: random.Random, month_low: int, month_high: int) -> str:
    month = rng.randint(month_low, month_high)
    return (
        f"2026-{month:02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
        f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z"
    )


def _account(
    rng: random.Random, company: str, industry: str, domain: str, place: tuple[str, ...]
) -> dict[str, Any]:
    city, state, postal, country, street = place
    account: dict[str, Any] = {
        "Industry": industry,
        "CompanyName": company,
        "WebsiteUrl": f"https://www.{domain}",
        "AwsAccountId": f"{rng.randrange(10**11, 10**12):012d}",
        "Address": {
            "City": city,
            "PostalCode": postal,
            "StateOrRegion": state,
            "CountryCode": country,
            "StreetAddress": street,
        },
        "Duns": f"{rng.randrange(10**8, 10**9):09d}",
    }
    if industry == "Other":
        account["OtherIndustry"] = "Design services"
    return account


def _contacts(rng: random.Random, domain: str) -> list[dict[str, Any]]:
    contacts = []
    for first, last, title in rng.sample(_PEOPLE, rng.randint(1, 2)):
        contacts.append(
            {
                "Email": f"{first.lower()}.{last.lower()}@{domain}",
                "FirstName": first,
                "LastName": last,
                "BusinessTitle": title,
                "Phone": f"+1206555{rng.randrange(10**4):04d}",
            }
        )
    return contacts


def _project(index: int, rng: random.Random, company: str) -> dict[str, Any]:
    amount = rng.choice((2500, 4800, 12000, 25000, 60000, 150000))
    spend: dict[str, Any] = {
        "Amount": f"{amount}.00",
        "CurrencyCode": "USD",
        "Frequency": "Monthly",
        "TargetCompany": "AWS",
    }
    if index % 3 == 0:
        spend["EstimationUrl"] = f"https://calculator.aws/#/estimate?id={rng.getrandbits(160):040x}"
    competitor = rng.choice(_enum("Project", "CompetitorName"))
    project: dict[str, Any] = {
        "DeliveryModels": rng.sample(_enum("Project", "DeliveryModels"), rng.randint(1, 2)),
        "ExpectedCustomerSpend": [spend],
        "Title": f"{company}: {_TITLES[index % len(_TITLES)]}",
        "ApnPrograms": ["APN Immersion Days"] if index % 4 == 0 else [],
        "CustomerBusinessProblem": _PROBLEMS[index % len(_PROBLEMS)],
        "CustomerUseCase": rng.choice(
            (
                "Migration / Database Migration",
                "Business Applications",
                "AI Machine Learning and Analytics",
            )
        ),
        "SalesActivities": _enum("Project", "SalesActivities")[: 1 + index % 4],
        "CompetitorName": competitor,
        "AdditionalComments": f"Imported from the partner CRM, account {index + 1}.",
    }
    if competitor == "*Other":
        project["OtherCompetitorNames"] = "Regional hosting provider"
    if not project["ApnPrograms"]:
        del project["ApnPrograms"]
    return project


_REVIEW_NOTES: dict[str, dict[str, str]] = {
    "Action Required": {
        "ReviewComments": "Please confirm the expected monthly spend and the target close date.",
        "ReviewStatusReason": "Missing information",
    },
    "Rejected": {
        "ReviewComments": "Duplicate of an existing opportunity.",
        "ReviewStatusReason": "Duplicate",
    },
    "Approved": {"ReviewComments": "Approved for co-sell."},
}


def _life(rng: random.Random, stage: str, status: str, created: str) -> dict[str, Any]:
    history = [
        {"Value": step, "Time": _stamp(rng, 6, 6)}
        for step in rng.sample(_NEXT_STEPS, rng.randint(0, 2))
    ]
    history.sort(key=lambda h: h["Time"])
    life: dict[str, Any] = {
        "Stage": stage,
        "NextSteps": history[-1]["Value"] if history else rng.choice(_NEXT_STEPS),
        "TargetCloseDate": f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "ReviewStatus": status,
    }
    if not history:
        history = [{"Value": life["NextSteps"], "Time": created}]
    if stage == "Closed Lost":
        life["ClosedLostReason"] = rng.choice(_enum("LifeCycle", "ClosedLostReason"))
    life.update(_REVIEW_NOTES.get(status, {}))
    life["NextStepsHistory"] = history
    return life


def _extras(index: int, industry: str, funded: bool) -> dict[str, Any]:
    """The members only some records carry: funding, national security, software revenue."""
    extras: dict[str, Any] = {}
    if industry == "Government":
        extras["NationalSecurity"] = "Yes" if index % 2 == 0 else "No"
    if index % 6 == 1:
        extras["SoftwareRevenue"] = {
            "DeliveryModel": "Subscription",
            "Value": {"Amount": "12000.00", "CurrencyCode": "USD"},
            "EffectiveDate": "2027-01-01",
            "ExpirationDate": "2027-12-31",
        }
    return extras


def _record(number: int, index: int, catalog: str, rng: random.Random) -> dict[str, Any]:
    """One record; the random draws come in a fixed order (the samples depend on it)."""
    stages = _enum("LifeCycle", "Stage")
    statuses = _enum("LifeCycle", "ReviewStatus")
    stage = stages[index % len(stages)]
    status = statuses[index % len(statuses)]
    company, industry, domain = _COMPANIES[index % len(_COMPANIES)]
    place = _PLACES[rng.randrange(len(_PLACES))]
    identifier = f"O{number}"
    created = _stamp(rng, 1, 6)
    modified = _stamp(rng, 7, 10)
    account = _account(rng, company, industry, domain, place)
    contacts = _contacts(rng, domain)
    project = _project(index, rng, company)
    life = _life(rng, stage, status, created)
    funded = index % 5 == 0
    marketing: dict[str, Any] = {
        "Source": "Marketing Activity" if funded else "None",
        "AwsFundingUsed": "Yes" if funded else "No",
    }
    if funded:
        marketing.update(
            CampaignName="Cloud Migration Days 2026",
            Channels=["Live Event", "Email"],
            UseCases=["Migration"],
        )
    record: dict[str, Any] = {
        "Catalog": catalog,
        "PrimaryNeedsFromAws": rng.sample(_enum("PrimaryNeedsFromAws"), rng.randint(1, 3)),
        "PartnerOpportunityIdentifier": f"CRM-{20000 + index}",
        "Customer": {"Account": account, "Contacts": contacts},
        "Project": project,
        "OpportunityType": _enum("OpportunityType")[index % 3],
        "Marketing": marketing,
        "Id": identifier,
        "Arn": f"arn:aws:partnercentral:us-east-1::catalog/{catalog}/opportunity/{identifier}",
        "LastModifiedDate": modified,
        "CreatedDate": created,
        "RelatedEntityIdentifiers": {
            "Solutions": [f"S-{9000000 + index % 7}"],
            "AwsProducts": ["AmazonEC2", "AmazonS3"][: 1 + index % 2],
        },
        "LifeCycle": life,
        "OpportunityTeam": [
            {
                "Email": "sam.rivera@partner.example.com",
                "FirstName": "Sam",
                "LastName": "Rivera",
                "BusinessTitle": "PartnerAccountManager",
            }
        ],
    }
    record.update(_extras(index, industry, funded))
    return record


def generate() -> list[dict[str, Any]]:
    """The sample records, the same on every call."""
    rng = random.Random(20261126)
    records = [_record(FIRST_ID + i, i, "Sandbox", rng) for i in range(SANDBOX_COUNT)]
    records += [_record(FIRST_ID + SANDBOX_COUNT + i, i, "AWS", rng) for i in range(AWS_COUNT)]
    return records


def main() -> None:
    json.dump(generate(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
