"""Vocabulary of the synthetic world: names, categories, sources and their frequencies.

Each table pairs a slug with a relative weight, so a distribution is edited in one place.
"""

from __future__ import annotations

WORKSPACE_BRANDS = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Soylent",
)
APP_KINDS = ("Wallet", "Pay", "Lite", "Mall", "Go", "Life")

MERCHANT_WORDS = (
    ("Bean", "Golden", "Blue", "Happy", "Lucky", "Urban", "Green", "Silver", "Sunny", "Red"),
    ("Works", "Labs", "Trading", "Studio", "Foods", "Digital", "Group", "Retail", "Co", "Games"),
)

CATEGORIES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("food_beverage", 14, ("Coffee", "Bubble Tea", "Pizza", "Noodle", "Bakery", "Sushi")),
    ("shopping", 12, ("Fashion", "Outlet", "Gadget", "Grocery", "Flash Sale")),
    ("lifestyle", 10, ("Laundry", "Pet Care", "Home Fix", "Florist")),
    ("travel", 8, ("Flight", "Hotel", "Metro", "Ride", "Trip")),
    ("finance", 7, ("Insurance", "Savings", "Bill Pay", "Invest")),
    ("utilities", 7, ("Top Up", "Water Bill", "Parking", "Scanner")),
    ("entertainment", 7, ("Cinema", "Karaoke", "Concert", "Comics")),
    ("health", 6, ("Clinic", "Pharmacy", "Fitness", "Yoga")),
    ("education", 6, ("Language", "Math Tutor", "Library", "Quiz")),
    ("business", 5, ("Invoice", "Payroll", "Expense", "Logistics")),
    ("beauty", 4, ("Salon", "Nail Art", "Skincare")),
    ("art_design", 3, ("Gallery", "Sketch", "Photo")),
    ("sports", 3, ("Football", "Tennis", "Running")),
)
"""Mini program categories: slug, weight, nouns for names. Games mostly use ``GAME_CATEGORY``."""

GAME_CATEGORY = ("games", ("Puzzle", "Racer", "Match 3", "Tower", "Farm", "Quest", "Chess"))
NAME_SUFFIXES = ("Express", "Hub", "Go", "Plus", "Club", "Now", "Box", "Pro")

MINI_PROGRAM_SOURCES: tuple[tuple[str, float], ...] = (
    ("merchant", 40),
    ("wallet", 20),
    ("alipay_plus", 15),
    ("partner", 12),
    ("isv", 8),
    ("internal", 5),
)
"""How a mini program reached the platform (slug, weight)."""

USER_SOURCES: tuple[tuple[str, float], ...] = (
    ("wallet", 42),
    ("merchant", 14),
    ("alipay_plus", 14),
    ("social", 11),
    ("search", 9),
    ("ads", 6),
    ("referral", 4),
)
"""How an end user was acquired (slug, weight)."""

PAGES = (
    "/home",
    "/search",
    "/detail",
    "/cart",
    "/checkout",
    "/orders",
    "/profile",
    "/settings",
    "/menu",
    "/coupons",
)
GAME_PAGES = ("/lobby", "/level", "/shop", "/leaderboard", "/rewards")

HOURLY_WEIGHTS = (
    1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 3.5, 3.5, 4.0,
    4.5, 4.0, 3.5, 3.5, 3.5, 4.0, 4.5, 5.0, 5.0, 4.5, 3.0, 2.0,
)  # fmt: skip
"""Relative traffic of each UTC hour: a lunch peak and an evening peak."""
