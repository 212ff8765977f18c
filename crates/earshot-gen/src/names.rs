//! Word lists the generator draws names from: people, invented brand stems,
//! industries with their products and hashtags, and the real brands whose
//! names are replaced in the source texts.
//!
//! These are data, not logic: short hand-written lists, because no crate in
//! the workspace ships name lists and pulling a faker crate in for a few
//! hundred words would cost more than it saves.

/// Given names, mixed in origin so generated handles look like a real audience.
#[rustfmt::skip]
pub(crate) const FIRST: &[&str] = &[
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William",
    "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Chris", "Karen", "Daniel", "Lisa",
    "Matthew", "Nancy", "Anthony", "Betty", "Mark", "Sandra", "Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily",
    "Andrew", "Donna", "Joshua", "Michelle", "Kevin", "Carol", "Brian", "Amanda", "George", "Melissa", "Tim", "Deborah",
    "Ronald", "Stephanie", "Jason", "Rebecca", "Ryan", "Laura", "Jacob", "Sharon", "Gary", "Cynthia", "Nick",
    "Kathleen", "Eric", "Amy", "Jon", "Angela", "Stephen", "Shirley", "Larry", "Anna", "Justin", "Brenda", "Scott",
    "Pamela", "Brandon", "Emma", "Ben", "Nicole", "Sam", "Helen", "Greg", "Samantha", "Alex", "Katherine", "Frank",
    "Christine", "Patrick", "Debra", "Ray", "Rachel", "Jack", "Carolyn", "Dennis", "Janet", "Jerry", "Maria", "Tyler",
    "Olivia", "Aaron", "Heather", "Jose", "Catherine", "Adam", "Diane", "Nathan", "Julie", "Henry", "Joyce", "Zach",
    "Victoria", "Doug", "Kelly", "Peter", "Christina", "Kyle", "Lauren", "Noah", "Joan", "Ethan", "Evelyn", "Jeremy",
    "Judith", "Walter", "Megan", "Christian", "Andrea", "Keith", "Cheryl", "Roger", "Hannah", "Terry", "Jacqueline",
    "Austin", "Martha", "Sean", "Gloria", "Gerald", "Teresa", "Carl", "Ann", "Harold", "Sara", "Dylan", "Madison",
    "Arthur", "Frances", "Lawrence", "Kathryn", "Jordan", "Janice", "Jesse", "Jean", "Bryan", "Abigail", "Billy",
    "Alice", "Bruce", "Judy", "Gabriel", "Sophia", "Joe", "Grace", "Logan", "Denise", "Albert", "Amber", "Willie",
    "Doris", "Alan", "Marilyn", "Juan", "Danielle", "Wayne", "Beverly", "Elijah", "Isabella", "Randy", "Theresa", "Roy",
    "Diana", "Vincent", "Natalie", "Ralph", "Brittany", "Eugene", "Charlotte", "Russell", "Marie", "Bobby", "Kayla",
    "Mason", "Alexis", "Philip", "Lori", "Priya", "Arjun", "Wei", "Mei", "Hiroshi", "Yuki", "Ahmed", "Fatima", "Omar",
    "Aisha", "Carlos", "Lucia", "Diego", "Sofia", "Mateo", "Valentina", "Kwame", "Amara", "Chidi", "Ngozi", "Lars",
    "Ingrid", "Pierre", "Camille", "Luca", "Giulia", "Sven", "Freya", "Dmitri", "Olga", "Ravi", "Ananya", "Tariq",
    "Leila",
];

/// Family names, same spirit as [`FIRST`].
#[rustfmt::skip]
pub(crate) const LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez",
    "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez",
    "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen",
    "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker",
    "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez",
    "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward",
    "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell",
    "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes", "Fisher", "Vasquez",
    "Simmons", "Graham", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez", "Mcdonald", "Woods",
    "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb", "Tucker", "Guzman", "Burns",
    "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon",
    "Munoz", "Hunt", "Hicks", "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar",
    "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson", "Nichols", "Stephens", "Soto",
    "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins", "Arnold", "Pierce", "Hansen",
    "Peters", "Santos", "Hart", "Bradley", "Knight", "Elliott", "Cunningham", "Duncan", "Armstrong", "Hudson",
    "Carroll", "Lane", "Riley", "Andrews", "Ray", "Berry", "Perkins", "Hoffman", "Johnston", "Matthews", "Pena",
    "Richards", "Willis", "Carpenter", "Lawrence", "Sandoval", "Okafor", "Mensah", "Singh", "Sharma", "Tanaka", "Sato",
    "Wang", "Zhang", "Haddad", "Khan", "Rossi", "Moreau", "Novak", "Larsen", "Berg", "Ivanova", "Kowalski", "Mwangi",
    "Adeyemi", "Costa",
];

/// First syllables of invented brand names. Combined with [`BRAND_TAIL`] they
/// give names like `Norvik` or `Velora` that are unlikely to be words in the
/// source texts (candidates that are words there are rejected anyway).
#[rustfmt::skip]
pub(crate) const BRAND_HEAD: &[&str] = &[
    "Nor", "Vel", "Quin", "Brin", "Zen", "Aur", "Cal", "Lum", "Sol", "Tor", "Kes", "Mir", "Fen", "Ost", "Var", "Hal",
    "Dex", "Orb", "Pim", "Rov", "Syl", "Tam", "Ulv", "Wex", "Yar", "Bex", "Cor", "Dal", "Eld", "Gry", "Jun", "Kal",
    "Lor", "Nex", "Oz", "Pax", "Qor", "Riv", "Sev", "Tyr", "Vox", "Zar",
];

/// Last syllables of invented brand names.
#[rustfmt::skip]
pub(crate) const BRAND_TAIL: &[&str] = &[
    "vik", "ora", "tic", "well", "ara", "ix", "ent", "ova", "ly", "ant", "eo", "ium", "ano", "era", "ello", "iq", "una",
    "ada", "isk", "ari", "on", "eta", "ux", "ino",
];

/// A brand's line of business: which real texts it gets, its products and hashtags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Industry {
    /// Airlines (airline-sentiment, TWCS airline care accounts).
    Airline,
    /// Mobile, cable and internet providers.
    Telecom,
    /// Music and video streaming.
    Streaming,
    /// Shops and marketplaces.
    Retail,
    /// Restaurants and food delivery.
    Food,
    /// Banks and payments.
    Bank,
    /// Software and cloud.
    Software,
    /// Games and consoles.
    Gaming,
    /// Trains, rides and parcels.
    Transport,
    /// Clothes and shoes.
    Apparel,
    /// Phones, laptops, gadgets.
    Electronics,
}

impl Industry {
    /// Every industry, in a stable order.
    pub const ALL: [Industry; 11] = [
        Industry::Airline,
        Industry::Telecom,
        Industry::Streaming,
        Industry::Retail,
        Industry::Food,
        Industry::Bank,
        Industry::Software,
        Industry::Gaming,
        Industry::Transport,
        Industry::Apparel,
        Industry::Electronics,
    ];

    /// How often brands of this industry are generated, relative to the others:
    /// the industries with the most real texts come first.
    pub(crate) fn weight(self) -> f64 {
        match self {
            Industry::Airline => 3.0,
            Industry::Telecom => 2.5,
            Industry::Retail => 2.0,
            Industry::Software | Industry::Streaming | Industry::Food => 1.5,
            Industry::Electronics | Industry::Gaming | Industry::Transport | Industry::Bank => 1.0,
            Industry::Apparel => 0.8,
        }
    }

    /// The word after the stem in the display name (`Norvik Air`) and the handle (`NorvikAir`).
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            Industry::Airline => "Air",
            Industry::Telecom => "Mobile",
            Industry::Streaming => "Music",
            Industry::Retail => "Market",
            Industry::Food => "Eats",
            Industry::Bank => "Bank",
            Industry::Software => "Cloud",
            Industry::Gaming => "Games",
            Industry::Transport => "Rail",
            Industry::Apparel => "Wear",
            Industry::Electronics => "Tech",
        }
    }

    /// Product names; `{}` is replaced by the brand stem.
    pub(crate) fn products(self) -> &'static [&'static str] {
        match self {
            Industry::Airline => &["{} app", "{}Miles", "inflight Wi-Fi", "online check-in", "{} Lounge"],
            Industry::Telecom => &["{} Fiber", "{} app", "Unlimited Plus", "{} TV box", "home broadband"],
            Industry::Streaming => &["{} Premium", "{} app", "Family plan", "offline downloads", "Discover Weekly"],
            Industry::Retail => &["{} app", "{}+ membership", "same-day delivery", "gift cards", "click and collect"],
            Industry::Food => &["{} app", "{} Rewards", "breakfast menu", "delivery", "{} Burger"],
            Industry::Bank => &["{} app", "{} Card", "online banking", "mobile deposit", "{} Savings"],
            Industry::Software => &["{} Drive", "{} Office", "{} Pro", "the desktop app", "{} Sync"],
            Industry::Gaming => &["{} Live", "{} Pass", "online multiplayer", "the {} store", "{} controller"],
            Industry::Transport => &["{} app", "{} Pass", "e-tickets", "season ticket", "{} Express"],
            Industry::Apparel => &["{} app", "{} Rewards", "returns portal", "{} Runner shoes", "{} Outlet"],
            Industry::Electronics => &["{} Phone X", "{} Buds", "{} Watch", "{} Book Air", "the charger"],
        }
    }

    /// Hashtags customers of this industry use organically.
    pub(crate) fn hashtags(self) -> &'static [&'static str] {
        match self {
            Industry::Airline => &["travel", "flight", "delayed", "avgeek", "airport"],
            Industry::Telecom => &["outage", "internet", "wifi", "5G", "broadband"],
            Industry::Streaming => &["music", "nowplaying", "playlist", "podcast", "bingewatching"],
            Industry::Retail => &["shopping", "delivery", "sale", "blackfriday", "order"],
            Industry::Food => &["foodie", "lunch", "hungry", "dinner", "fastfood"],
            Industry::Bank => &["banking", "money", "fintech", "fraud", "savings"],
            Industry::Software => &["tech", "update", "bug", "cloud", "productivity"],
            Industry::Gaming => &["gaming", "gamer", "esports", "gamedev", "twitch"],
            Industry::Transport => &["commute", "trains", "delays", "rushhour", "travel"],
            Industry::Apparel => &["fashion", "ootd", "style", "sneakers", "returns"],
            Industry::Electronics => &["tech", "gadgets", "battery", "unboxing", "android"],
        }
    }
}

/// Hashtags of complaints, on any brand.
pub(crate) const COMPLAINT_TAGS: &[&str] =
    &["fail", "customerservice", "nothappy", "disappointed", "help", "worstservice", "frustrated"];

/// Hashtags of praise, on any brand.
pub(crate) const PRAISE_TAGS: &[&str] = &["thankyou", "love", "happycustomer", "greatservice", "impressed"];

/// One weekly hashtag per weekday (Monday first), used organically on that day.
pub(crate) const WEEKDAY_TAGS: [&str; 7] = [
    "MondayMotivation",
    "TuesdayThoughts",
    "WednesdayWisdom",
    "ThrowbackThursday",
    "FridayFeeling",
    "SaturdayVibes",
    "SundayFunday",
];

/// The day's topic a brand may have (a sale, an update): `{}` is the stem.
/// Used by many authors throughout one day, never as an injected campaign.
pub(crate) const DAILY_TOPIC_TAGS: &[&str] = &["{}Sale", "{}Update", "{}Deals", "{}Launch", "{}Week", "{}Day"];

/// Campaign hashtags: `{b}` the brand stem, `{p}` a first name, `{c}` a town.
/// Disjoint from every organic pattern above, so a campaign tag is never organic.
pub(crate) const CAMPAIGN_TAGS: &[&str] = &[
    "Boycott{b}",
    "{b}Fail",
    "Fix{b}Now",
    "{c}Social",
    "Justice4{p}",
    "{b}Lied",
    "{c}Students",
    "{b}Owes{p}",
    "Stand4{p}",
    "{b}MustPay",
];

/// Towns and colleges for campaign hashtags (`#OlivetSocial`).
pub(crate) const TOWNS: &[&str] = &[
    "Olivet",
    "Brookfield",
    "Ashford",
    "Kenmore",
    "Millbrook",
    "Riverton",
    "Westhaven",
    "Fairview",
    "Lakeside",
    "Greenwood",
    "Oakridge",
    "Hillcrest",
    "Maplewood",
    "Stonebridge",
    "Clearwater",
    "Elmhurst",
];

/// Emoji and endings people add when they copy a campaign text.
pub(crate) const ENDINGS: &[&str] =
    &[" 🙏", " 😡", "!!", "!", " 🙄", " 💔", " 😤", " please", " #help", " smh", " 👀", "!!!", " 😠"];

/// Where link campaigns point: `{b}` brand stem lower-case, `{s}` a slug.
pub(crate) const CAMPAIGN_LINKS: &[&str] = &[
    "https://www.change.org/p/{b}-{s}",
    "https://news.example.com/2026/business/{b}-{s}",
    "https://medium.com/@consumerwatch/{b}-{s}",
    "https://www.reddit.com/r/mildlyinfuriating/comments/{s}",
    "https://bit.ly/{s}",
];

/// Words slugs are made of.
pub(crate) const SLUG_WORDS: &[&str] = &[
    "refund",
    "customers",
    "stranded",
    "broken",
    "promise",
    "truth",
    "scandal",
    "outage",
    "fees",
    "hidden",
    "charges",
    "apology",
    "now",
    "students",
    "families",
    "support",
    "ignored",
    "lost",
    "data",
    "cancelled",
];

/// A real care account of the TWCS data set, the industry of the brand behind
/// it, and the brand's names as they appear in its customers' texts (replaced
/// by the generated brand's name).
pub(crate) struct CareAccount {
    pub handle: &'static str,
    pub industry: Industry,
    pub names: &'static [&'static str],
}

/// Care accounts of the TWCS subsets (the 76 brands of its first 5,000 rows
/// and SpotifyCares); unlisted ones fall in no industry.
pub(crate) const CARE_ACCOUNTS: &[CareAccount] = &[
    CareAccount { handle: "AirAsiaSupport", industry: Industry::Airline, names: &["AirAsia"] },
    CareAccount { handle: "AlaskaAir", industry: Industry::Airline, names: &["Alaska Airlines", "Alaska"] },
    CareAccount { handle: "AmericanAir", industry: Industry::Airline, names: &["American Airlines", "AA"] },
    CareAccount { handle: "British_Airways", industry: Industry::Airline, names: &["British Airways", "BA"] },
    CareAccount { handle: "Delta", industry: Industry::Airline, names: &["Delta"] },
    CareAccount { handle: "JetBlue", industry: Industry::Airline, names: &["JetBlue", "Jetblue"] },
    CareAccount { handle: "SouthwestAir", industry: Industry::Airline, names: &["Southwest"] },
    CareAccount { handle: "VirginAmerica", industry: Industry::Airline, names: &["Virgin America"] },
    CareAccount { handle: "VirginAtlantic", industry: Industry::Airline, names: &["Virgin Atlantic", "Virgin"] },
    CareAccount { handle: "Ask_Spectrum", industry: Industry::Telecom, names: &["Spectrum"] },
    CareAccount { handle: "BoostCare", industry: Industry::Telecom, names: &["Boost"] },
    CareAccount { handle: "CenturyLinkHelp", industry: Industry::Telecom, names: &["CenturyLink", "Centurylink"] },
    CareAccount { handle: "comcastcares", industry: Industry::Telecom, names: &["Comcast", "Xfinity", "XFINITY"] },
    CareAccount { handle: "CoxHelp", industry: Industry::Telecom, names: &["Cox"] },
    CareAccount { handle: "GloCare", industry: Industry::Telecom, names: &["Glo"] },
    CareAccount { handle: "O2", industry: Industry::Telecom, names: &["O2"] },
    CareAccount { handle: "Safaricom_Care", industry: Industry::Telecom, names: &["Safaricom"] },
    CareAccount { handle: "TMobileHelp", industry: Industry::Telecom, names: &["T-Mobile", "TMobile", "Tmobile"] },
    CareAccount { handle: "USCellularCares", industry: Industry::Telecom, names: &["US Cellular"] },
    CareAccount { handle: "VerizonSupport", industry: Industry::Telecom, names: &["Verizon", "Fios"] },
    CareAccount { handle: "airtel_care", industry: Industry::Telecom, names: &["Airtel", "airtel"] },
    CareAccount { handle: "idea_cares", industry: Industry::Telecom, names: &["Idea"] },
    CareAccount { handle: "sprintcare", industry: Industry::Telecom, names: &["Sprint"] },
    CareAccount { handle: "SpotifyCares", industry: Industry::Streaming, names: &["Spotify"] },
    CareAccount { handle: "hulu_support", industry: Industry::Streaming, names: &["Hulu", "hulu"] },
    CareAccount { handle: "AmazonHelp", industry: Industry::Retail, names: &["Amazon", "amazon"] },
    CareAccount { handle: "ArgosHelpers", industry: Industry::Retail, names: &["Argos"] },
    CareAccount { handle: "AskTarget", industry: Industry::Retail, names: &["Target"] },
    CareAccount { handle: "AskeBay", industry: Industry::Retail, names: &["eBay", "ebay"] },
    CareAccount { handle: "AldiUK", industry: Industry::Retail, names: &["Aldi"] },
    CareAccount { handle: "Morrisons", industry: Industry::Retail, names: &["Morrisons"] },
    CareAccount { handle: "NeweggService", industry: Industry::Retail, names: &["Newegg"] },
    CareAccount { handle: "Tesco", industry: Industry::Retail, names: &["Tesco", "tesco"] },
    CareAccount { handle: "Walmart", industry: Industry::Retail, names: &["Walmart"] },
    CareAccount { handle: "marksandspencer", industry: Industry::Retail, names: &["M&S", "Marks and Spencer"] },
    CareAccount { handle: "sainsburys", industry: Industry::Retail, names: &["Sainsbury's", "Sainsburys"] },
    CareAccount { handle: "AskPapaJohns", industry: Industry::Food, names: &["Papa John's", "Papa Johns"] },
    CareAccount { handle: "ChipotleTweets", industry: Industry::Food, names: &["Chipotle", "chipotle"] },
    CareAccount { handle: "DoorDash_Help", industry: Industry::Food, names: &["DoorDash", "Doordash"] },
    CareAccount { handle: "DunkinDonuts", industry: Industry::Food, names: &["Dunkin"] },
    CareAccount { handle: "McDonalds", industry: Industry::Food, names: &["McDonald's", "McDonalds"] },
    CareAccount { handle: "Postmates_Help", industry: Industry::Food, names: &["Postmates"] },
    CareAccount { handle: "askpanera", industry: Industry::Food, names: &["Panera"] },
    CareAccount { handle: "AskAmex", industry: Industry::Bank, names: &["Amex", "American Express"] },
    CareAccount { handle: "AskCiti", industry: Industry::Bank, names: &["Citi"] },
    CareAccount { handle: "AskPayPal", industry: Industry::Bank, names: &["PayPal", "Paypal"] },
    CareAccount { handle: "Ask_WellsFargo", industry: Industry::Bank, names: &["Wells Fargo", "WellsFargo"] },
    CareAccount { handle: "BofA_Help", industry: Industry::Bank, names: &["Bank of America", "BofA"] },
    CareAccount { handle: "ChaseSupport", industry: Industry::Bank, names: &["Chase"] },
    CareAccount { handle: "AdobeCare", industry: Industry::Software, names: &["Adobe"] },
    CareAccount { handle: "AppleSupport", industry: Industry::Software, names: &["Apple"] },
    CareAccount { handle: "AzureSupport", industry: Industry::Software, names: &["Azure"] },
    CareAccount { handle: "DropboxSupport", industry: Industry::Software, names: &["Dropbox"] },
    CareAccount { handle: "GoDaddyHelp", industry: Industry::Software, names: &["GoDaddy"] },
    CareAccount { handle: "MicrosoftHelps", industry: Industry::Software, names: &["Microsoft"] },
    CareAccount { handle: "YahooCare", industry: Industry::Software, names: &["Yahoo"] },
    CareAccount { handle: "asksalesforce", industry: Industry::Software, names: &["Salesforce"] },
    CareAccount { handle: "ATVIAssist", industry: Industry::Gaming, names: &["Activision"] },
    CareAccount { handle: "AskPlayStation", industry: Industry::Gaming, names: &["PlayStation", "Playstation", "PSN"] },
    CareAccount { handle: "JackBox", industry: Industry::Gaming, names: &["Jackbox"] },
    CareAccount { handle: "XboxSupport", industry: Industry::Gaming, names: &["Xbox", "XBOX", "xbox"] },
    CareAccount { handle: "AskLyft", industry: Industry::Transport, names: &["Lyft"] },
    CareAccount { handle: "GWRHelp", industry: Industry::Transport, names: &["GWR"] },
    CareAccount { handle: "LondonMidland", industry: Industry::Transport, names: &["London Midland"] },
    CareAccount { handle: "TfL", industry: Industry::Transport, names: &["TfL"] },
    CareAccount { handle: "UPSHelp", industry: Industry::Transport, names: &["UPS"] },
    CareAccount { handle: "Uber_Support", industry: Industry::Transport, names: &["Uber", "uber"] },
    CareAccount { handle: "VirginTrains", industry: Industry::Transport, names: &["Virgin Trains"] },
    CareAccount { handle: "nationalrailenq", industry: Industry::Transport, names: &["National Rail"] },
    CareAccount { handle: "NikeSupport", industry: Industry::Apparel, names: &["Nike"] },
    CareAccount { handle: "HPSupport", industry: Industry::Electronics, names: &["HP"] },
    CareAccount { handle: "AirbnbHelp", industry: Industry::Retail, names: &["Airbnb"] },
    CareAccount { handle: "IHGService", industry: Industry::Retail, names: &["IHG"] },
    CareAccount { handle: "Kimpton", industry: Industry::Retail, names: &["Kimpton"] },
];

/// The care account with this handle (case-insensitive).
pub(crate) fn care_account(handle: &str) -> Option<&'static CareAccount> {
    CARE_ACCOUNTS.iter().find(|c| c.handle.eq_ignore_ascii_case(handle))
}

/// Airline names in `airline-sentiment/train.csv` (its `airline` column) and
/// how customers write them.
pub(crate) fn airline_names(airline: &str) -> &'static [&'static str] {
    match airline {
        "United" => &["United Airlines", "United"],
        "US Airways" => &["US Airways", "USAirways", "US Air"],
        "American" => &["American Airlines", "AmericanAirlines"],
        "Southwest" => &["Southwest Airlines", "Southwest", "SWA"],
        "Delta" => &["Delta Airlines", "Delta"],
        "Virgin America" => &["Virgin America", "VirginAmerica"],
        _ => &[],
    }
}

/// The industries the complaints data set's `domain` column belongs to.
pub(crate) fn complaint_domain(domain: &str) -> &'static [Industry] {
    match domain {
        "transport" => &[Industry::Airline, Industry::Transport],
        "software" => &[Industry::Software, Industry::Streaming, Industry::Gaming],
        "electronics" => &[Industry::Electronics, Industry::Software],
        "apparel" => &[Industry::Apparel, Industry::Retail],
        "retail" => &[Industry::Retail],
        "food" => &[Industry::Food],
        "services" => &[Industry::Telecom, Industry::Bank],
        "cars" => &[Industry::Transport],
        _ => &[],
    }
}

/// Hourly activity of customer posts by local hour (0–23), relative units.
///
/// The shape of public tweet volume over a day: a trough around 4–5 am at
/// about a sixth of the daytime level, a morning climb, a plateau from late
/// morning with a lunchtime bump, an evening peak around 8–9 pm. Customer-care
/// traffic follows it because it is written by the same people.
pub(crate) const HOURLY: [f64; 24] = [
    0.55, 0.38, 0.26, 0.19, 0.16, 0.19, 0.30, 0.52, 0.78, 0.95, 1.03, 1.08, 1.14, 1.10, 1.05, 1.02, 1.00, 1.00, 1.04,
    1.10, 1.15, 1.10, 0.96, 0.76,
];

/// UTC offsets (minutes) a brand's home market may have, US and Europe weighted up.
pub(crate) const UTC_OFFSETS_MIN: &[i32] =
    &[-480, -420, -360, -300, -300, -300, -240, 0, 0, 60, 60, 120, 330, 480, 540, 600];
