"""Word lists and templates for :mod:`tuneforge.data.demo` (all written for tuneforge; every name is fictional).

Templates use ``{slot}`` markers. Intent slots are filled from :data:`INTENT_SLOTS` (values may contain
further slots); NER templates are whitespace-tokenised and use the upper-case entity slots of
:data:`NER_ENTITIES` plus the plain-word slots of :data:`NER_WORDS`.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- customer-service intents

INTENTS: tuple[str, ...] = (
    "check_balance",
    "transfer_money",
    "card_lost",
    "card_not_working",
    "order_status",
    "refund_request",
    "change_address",
    "cancel_subscription",
    "opening_hours",
    "password_reset",
    "complaint",
    "talk_to_human",
)

# Intents an annotator plausibly mixes up; label noise prefers these.
CONFUSABLE: dict[str, tuple[str, ...]] = {
    "check_balance": ("transfer_money",),
    "transfer_money": ("check_balance", "talk_to_human"),
    "card_lost": ("card_not_working",),
    "card_not_working": ("card_lost", "complaint"),
    "order_status": ("refund_request", "complaint", "change_address"),
    "refund_request": ("order_status", "complaint", "cancel_subscription"),
    "change_address": ("order_status",),
    "cancel_subscription": ("refund_request",),
    "opening_hours": ("talk_to_human",),
    "password_reset": ("talk_to_human",),
    "complaint": ("talk_to_human", "refund_request"),
    "talk_to_human": ("complaint",),
}

# A template ending in "?" is a question; the generator varies its final punctuation.
INTENT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "check_balance": (
        "what's my balance?",
        "how much money do I have in my {account}?",
        "can you tell me the balance of my {account}?",
        "{how} check my balance {channel}?",
        "I {want} see how much is left in my {account}",
        "show me the current balance",
        "is there still {amount} in my {account}?",
        "did my salary come in yet?",
        "what is the available balance on my {card}?",
        "balance for the {account} ending in {digits}",
        "how much can I still spend this month?",
        "am I overdrawn on my {account}?",
        "has the {amount} from {person} landed in my account yet?",
        "I need my account balance before I pay {person}",
        "what's left on my {account} after the {amount} payment?",
    ),
    "transfer_money": (
        "I {want} send {amount} to {person}",
        "transfer {amount} from my {account} to my {account}",
        "{how} wire money to {country}?",
        "move {amount} into my {account}",
        "can I pay {person} {amount} for rent today?",
        "set up a standing order of {amount} to {person} every month",
        "send {amount} to account {digits}",
        "how long does a transfer to {country} take?",
        "my transfer of {amount} to {person} hasn't gone through",
        "is there a limit on how much money I can transfer per day?",
        "I {want} split the bill and send {person} {amount}",
        "pay {amount} from my {account} to {person} {when_future}",
        "can I schedule a payment to {person} {when_future}?",
        "I {want} move money between my accounts",
    ),
    "card_lost": (
        "I lost my {card}",
        "my {card} was stolen {when}",
        "I can't find my {card} anywhere",
        "I think I left my {card} at {place} {when}",
        "someone stole my wallet with my {card} in it",
        "block my {card}, it's gone",
        "{how} freeze my {card}? I think I lost it",
        "my {card} went missing in {city}",
        "I dropped my {card} somewhere near {place}",
        "there are payments I don't recognise and my {card} is missing",
        "I need a replacement {card}, mine was stolen",
        "I have a problem with my {card}",
        "my bag was taken at {place} with all my cards",
        "I misplaced my {card} {when}, can you cancel it?",
    ),
    "card_not_working": (
        "my {card} keeps getting declined",
        "my {card} doesn't work at {shop}",
        "the chip on my {card} seems damaged",
        "the ATM rejected my {card} {when}",
        "why was my {card} declined {when}?",
        "contactless isn't working on my {card}",
        "my {card} stopped working {when}",
        'the terminal at {shop} says "card not supported" every time',
        "the cash machine kept my {card}, what do I do?",
        "I need a replacement {card}, mine is cracked",
        "block my {card} and send a new one, it doesn't work online",
        "I have a problem with my {card}",
        "my new {card} won't activate",
        "payment failed at {shop} even though I have money",
    ),
    "order_status": (
        "where is my order {order}?",
        "has my {product} shipped yet?",
        "when will my {product} arrive?",
        "can you track order {order} for me?",
        "my {product} was supposed to arrive {when}, any update?",
        "what's the delivery status of {order}?",
        "the tracking for my {product} hasn't updated since {when}",
        "is order {order} still on its way to {city}?",
        "I ordered a {product} {when} and haven't heard anything",
        "my package hasn't arrived",
        "any news on the {product} I ordered {when}?",
        "the courier says delivered but I have no {product}",
        "when does order {order} leave the warehouse?",
    ),
    "refund_request": (
        "I {want} return my {product} and get a refund",
        "how do I get my money back for order {order}?",
        "the {product} arrived broken, I want a refund",
        "refund the {amount} you charged me {when}",
        "I was charged twice for my {product}, can I get {amount} back?",
        "my {product} never arrived, I'd like my money back",
        "when will I see the refund for {order}?",
        "can I return the {product} I bought {when}?",
        "refund the last payment for my {service}",
        "the {product} is not what I ordered, I want a refund",
        "I sent the {product} back {when}, where is my money?",
        "I {want} get a refund of {amount} for order {order}",
    ),
    "change_address": (
        "I moved to {city}, how do I update my address?",
        "change my address to {street}",
        "I {want} update the delivery address for order {order}",
        "can I ship my {product} to a different address?",
        "my new address is {street}, {city}",
        "{how} change my billing address?",
        "I'm moving {when_future}, where do I update my details?",
        "update my postal address, I no longer live in {city}",
        "send my new {card} to {street} instead",
        "the address on my account is wrong, it should be {street}",
        "I {want} add a second delivery address in {city}",
    ),
    "cancel_subscription": (
        "I {want} cancel my {service}",
        "how do I stop my {service} from renewing?",
        "end my {service} at the end of the month",
        "cancel the {service}, I'm not using it anymore",
        "stop charging me {amount} every month for the {service}",
        "I'd like to unsubscribe from the {service}",
        "can I pause or cancel my {service}?",
        "how do I close my {service} membership?",
        "turn off auto-renewal on my {service}",
        "I {want} end my {service} before the next payment",
        "don't renew my {service} {when_future}",
    ),
    "opening_hours": (
        "what time does the {city} branch open?",
        "are you open on {day}?",
        "what are your opening hours on {day}?",
        "is the store on {street} open on {day}?",
        "when do you close today?",
        "until what time is the {city} shop open on {day}?",
        "can I visit a branch in {city} on {day}?",
        "are your phone lines open at the weekend?",
        "what time does customer support open?",
        "is the {city} office closed on {day}?",
        "how late can I come in to the {city} branch?",
    ),
    "password_reset": (
        "I forgot my password",
        "{how} reset my password?",
        "I'm locked out of my account",
        "the password reset email never arrived",
        "I can't log in to the app",
        "my login code isn't working",
        "I {want} change my password",
        "it says my password is wrong but I'm sure it's right",
        "I forgot my PIN for online banking",
        "account locked after too many attempts",
        "I never received the verification code on my phone",
        "{how} get back into my account {channel}?",
    ),
    "complaint": (
        "this is the worst service I have ever had",
        "I'm really unhappy with how my {product} order was handled",
        "your staff at the {city} branch were incredibly rude",
        "I've been waiting {duration} and nobody has helped me",
        "I {want} make a formal complaint",
        "you charged me {amount} without asking, this is unacceptable",
        "third time my delivery is late, I'm fed up",
        "the app crashes constantly and nobody fixes it",
        "I'm disappointed with the quality of the {product}",
        "nobody answers the phone, ridiculous",
        "I've been a customer for years and this is how you treat me?",
        "your website is a mess and the {product} was late",
    ),
    "talk_to_human": (
        "can I speak to a real person?",
        "I {want} talk to an agent",
        "connect me to customer service",
        "is there a human I can chat with?",
        "stop the bot, get me a person",
        "I need to speak with someone about my {account}",
        "put me through to a manager",
        "can someone call me back on {phone}?",
        "transfer me to a live agent",
        "what number do I call to reach a person?",
        "I'd rather talk to somebody on the phone",
        "agent",
    ),
}

# Vague utterances that real users send for either of two (or three) intents: they make the task
# realistically hard (a perfect score is impossible) and are added to the template list of each intent.
AMBIGUOUS_TEMPLATES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("check_balance", "transfer_money"), "did the {amount} to {person} go out of my {account}?"),
    (("check_balance", "transfer_money"), "do I have enough money to send {person} {amount}?"),
    (("check_balance", "complaint"), "why is my balance {amount} lower than it should be?"),
    (("card_lost", "card_not_working"), "can you block my {card} and send me a new one?"),
    (("card_lost", "card_not_working"), "I need a new {card}"),
    (("card_lost", "card_not_working"), "what do I do about my {card}?"),
    (("order_status", "refund_request"), "my {product} never arrived"),
    (("order_status", "complaint"), "still no sign of my {product}, this is getting ridiculous"),
    (("order_status", "refund_request"), "what's happening with order {order}?"),
    (("refund_request", "cancel_subscription"), "I don't want the {service} anymore, I want my money back"),
    (("refund_request", "complaint"), "you took {amount} for a {product} I never got"),
    (("change_address", "order_status"), "my {product} is going to my old address in {city}"),
    (("cancel_subscription", "complaint"), "the {service} is a waste of money"),
    (("opening_hours", "talk_to_human"), "when can I talk to someone at the {city} branch?"),
    (("opening_hours", "talk_to_human"), "is anyone available on {day}?"),
    (("password_reset", "talk_to_human"), "I can't get into my account, can someone help me?"),
    (("password_reset", "complaint"), "your login page never works"),
    (("complaint", "talk_to_human"), "I'm sick of this bot"),
    (("complaint", "talk_to_human"), "let me speak to your manager about this"),
    (("transfer_money", "talk_to_human"), "I need help with a payment to {person}"),
    (("change_address", "talk_to_human"), "I need someone to update my details"),
)

INTENT_OPENERS: tuple[str, ...] = (
    *("",) * 8,
    "hi, ",
    "hello, ",
    "hey ",
    "good morning, ",
    "hi there. ",
    "excuse me, ",
    "quick question: ",
    "sorry to bother you but ",
    "hello team, ",
    "ok so ",
)
# Placed before the final punctuation ("... please?").
INTENT_INNER: tuple[str, ...] = (*("",) * 10, " please", " please", " asap", " if possible")
# Placed after it ("...? thanks").
INTENT_CLOSERS: tuple[str, ...] = (*("",) * 10, " thanks", " thank you", " thx", " cheers", " :(")

QUESTION_ENDS: tuple[str, ...] = ("?", "?", "?", "?", "", "??", " ?")
STATEMENT_ENDS: tuple[str, ...] = (".", ".", "", "", "", "!", "...")

# Word lists below are packed several to a line on purpose.
# fmt: off
INTENT_SLOTS: dict[str, tuple[str, ...]] = {
    "card": (
        "card", "debit card", "credit card", "bank card", "Visa card", "Mastercard",
        "contactless card", "travel card", "gold card",
    ),
    "account": (
        "checking account", "savings account", "current account", "joint account",
        "business account", "main account", "holiday savings pot", "student account",
    ),
    "product": (
        "blender", "treadmill", "wireless headphones", "4K monitor", "phone case",
        "coffee grinder", "standing desk", "winter jacket", "air fryer", "gaming mouse",
        "kitchen knife set", "yoga mat", "e-reader", "baby monitor", "electric toothbrush",
        "desk lamp", "hiking backpack", "smart watch", "bluetooth speaker", "office chair",
    ),
    "when": (
        "yesterday", "last week", "on Monday", "two days ago", "this morning", "last night",
        "on the 14th", "a week ago", "over the weekend", "on March 3rd", "earlier today",
        "on Friday", "ten days ago",
    ),
    "when_future": (
        "next week", "tomorrow", "on the 1st", "next month", "on Friday", "on the 28th",
    ),
    "city": (
        "Lisbon", "Leeds", "Denver", "Porto", "Glasgow", "Austin", "Dublin", "Utrecht",
        "Valencia", "Cork", "Bristol", "Toronto", "Bergen", "Halden Bay", "Marrowfield", "Kingsport",
    ),
    "country": (
        "Spain", "Canada", "Poland", "India", "Brazil", "Japan", "Kenya", "the US", "Germany", "Mexico",
    ),
    "day": (
        "Saturday", "Sunday", "bank holidays", "Christmas Eve", "Easter Monday", "public holidays",
        "weekdays", "Friday evening", "New Year's Day",
    ),
    "service": (
        "premium plan", "monthly box", "music subscription", "gym add-on", "magazine subscription",
        "cloud storage plan", "meal kit delivery", "Plus membership", "insurance add-on", "streaming bundle",
    ),
    "shop": (
        "the supermarket", "a petrol station", "the ATM", "online shops", "the pharmacy", "Kwikmart",
        "the train station", "restaurants abroad", "the bakery",
    ),
    "place": (
        "the gym", "a restaurant", "the cinema", "my friend's house", "the airport", "a taxi",
        "the bus stop", "the office", "the hotel",
    ),
    "duration": ("three weeks", "over an hour", "45 minutes", "two months", "ten days", "all morning"),
    "want": ("want to", "would like to", "need to", "wanna", "have to"),
    "how": ("how do I", "how can I", "how would I", "what's the best way to", "is it possible to"),
    "channel": ("in the app", "online", "by phone", "at an ATM", "from abroad", "on the website"),
    "relation": ("my landlord", "my mum", "my brother", "my flatmate", "my boss", "my sister", "a friend"),
}

CURRENCY_FORMATS: tuple[str, ...] = ("${n}", "{n} dollars", "€{n}", "{n} euros", "£{n}", "{n} pounds", "{n} EUR")
AMOUNTS: tuple[str, ...] = (
    "5", "12", "20", "25", "40", "50", "75", "80", "100", "120", "150", "200", "250", "300",
    "450", "500", "600", "750", "1,000", "1,200", "2,500", "3,000", "19.99", "49.50", "12.75",
)
STREET_NAMES: tuple[str, ...] = (
    "Alder Road", "Quayside Lane", "Harbour Street", "Mill Close", "Beacon Avenue", "Orchard Way",
    "Station Road", "Fernhill Drive", "Copper Row", "Wexley Gardens", "Kiln Street",
)

# --------------------------------------------------------------------------- NER

FIRST_NAMES: tuple[str, ...] = (
    "Amara", "Tomasz", "Ingrid", "Kwame", "Lucia", "Rohan", "Mei", "Dmitri", "Fatima", "Oskar",
    "Priya", "Mateo", "Sanne", "Yusuf", "Hana", "Callum", "Noor", "Elif", "Bruno", "Saoirse",
    "Kenji", "Adaeze", "Lars", "Paloma", "Teodor", "Wren",
)
LAST_NAMES: tuple[str, ...] = (
    "Okafor", "Lindqvist", "Marchetti", "Haddad", "Brennan", "Takahashi", "Novak", "Osei",
    "Van der Berg", "De la Cruz", "Kowalczyk", "Ferreira", "Abernathy", "Castellanos", "Nakamura",
    "Quist", "Whitlock", "Ranganathan", "Ashdown", "Morel", "Halloran", "Szabo",
)
NER_ENTITIES: dict[str, tuple[str, ...]] = {
    "ORG": (
        "Brightwater Bank", "Kestrel Logistics", "Norrland Telecom Group", "Pinecrest Foods",
        "Halvorsen & Daughters", "Orbital Freight Company", "Bluefin Insurance", "Cobalt Systems",
        "Larkspur Health", "Tidewater Energy", "Quayside Retail", "Greymoor Council", "Stellan Motors",
        "Vantage Credit Union", "Ashgrove University", "Northwind Airways", "Copperleaf Books",
        "Ironbridge Capital", "Solstice Media", "Fernwood Mobile",
    ),
    "LOC": (
        "Lisbon", "New Haverford", "Port Anselm", "Kingsport", "Rotterdam", "Cape Marlow",
        "North Elmsworth", "San Teodoro", "Osaka", "Nairobi", "Leeds", "Bergen", "Lake Orvin",
        "Selwick Bay", "Montreal", "Valparaiso", "East Tarnley", "Glasgow",
    ),
    "PRODUCT": (
        "Nimbus X2", "Quillpad Pro", "Aurora 5", "Helix Smart Thermostat", "PocketPay", "Corvid 12 Mini",
        "StreamBox Ultra", "Fennel Air Purifier", "Lumen Desk Lamp", "TrailMate GPS", "Orca Buds 3",
        "Zephyr Scooter", "Kettlebright 2000", "CloudVault Plus", "Ridgeback E-Bike", "Pebble Hub",
    ),
}
NER_WORDS: dict[str, tuple[str, ...]] = {
    "month": ("January", "March", "April", "June", "July", "September", "October", "December"),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"),
    "number": ("3", "7", "12", "15", "40", "99", "120", "250", "1200"),
    "year": ("1998", "2004", "2011", "2016", "2019"),
}
NER_TEMPLATES: tuple[str, ...] = (
    "{PER} , a spokesperson for {ORG} , said the {PRODUCT} would reach stores in {LOC} by {month} .",
    "{ORG} has recalled thousands of {PRODUCT} units sold in {LOC} .",
    "Customers in {LOC} reported that the {PRODUCT} stopped syncing after the latest update .",
    "{PER} joined {ORG} as head of support in {month} .",
    "My {PRODUCT} arrived damaged , can someone from {ORG} call me ?",
    "{PER} from {LOC} asked whether {ORG} will refund the {PRODUCT} .",
    "{ORG} opened a new service centre in {LOC} on {weekday} .",
    "The {PRODUCT} , made by {ORG} , costs {number} euros .",
    "According to {PER} , {ORG} and {ORG} are in talks about a merger .",
    "I bought a {PRODUCT} in {LOC} but the {ORG} app does not recognise it .",
    "{PER} and {PER} will present the {PRODUCT} at a conference in {LOC} .",
    "Shares of {ORG} rose {number} percent after the {PRODUCT} launch .",
    "Hi , this is {PER} , my {PRODUCT} keeps restarting .",
    "Flights from {LOC} to {LOC} were cancelled , {ORG} said on {weekday} .",
    "{ORG} was fined after a data breach affecting users in {LOC} .",
    "Why does my {PRODUCT} show an error when I travel to {LOC} ?",
    "The mayor of {LOC} , {PER} , praised {ORG} for the new jobs .",
    "A {PRODUCT} belonging to {PER} was stolen on a train near {LOC} .",
    "Support ticket : {PRODUCT} not charging , customer {PER} , {LOC} .",
    "{ORG} will stop selling the {PRODUCT} in {LOC} next year .",
    "Police in {LOC} are looking for {PER} .",
    "Is the {PRODUCT} compatible with chargers sold by {ORG} ?",
    "We moved from {LOC} to {LOC} and the {PRODUCT} still shows the old time zone .",
    "{PER} , who founded {ORG} in {year} , stepped down on {weekday} .",
    "Storms delayed {ORG} deliveries across {LOC} for {number} days .",
    "Thanks to {PER} at {ORG} for fixing my {PRODUCT} so quickly !",
    "The {PRODUCT} is now available in {LOC} for {number} dollars .",
    "{ORG} and {ORG} signed a deal to build a factory outside {LOC} .",
    "Reviewers say the {PRODUCT} beats the {PRODUCT} on battery life .",
    "Can I return a {PRODUCT} bought from {ORG} in {LOC} ?",
    "{PER} told reporters in {LOC} that {ORG} is hiring {number} engineers .",
    "Ask {PER} about the {PRODUCT} warranty before {weekday} .",
    "{ORG} confirmed that {PER} will lead its office in {LOC} .",
    "Dear {ORG} , my {PRODUCT} has not worked since {month} .",
    "The update for the {PRODUCT} will roll out on {weekday} .",
    "Please restart the device and try again in {number} minutes .",
    "Our team will reply within {number} hours .",
)

# --------------------------------------------------------------------------- multi-label tickets

TOPICS: tuple[str, ...] = ("billing", "delivery", "account", "technical", "refund", "security")

TOPIC_CLAUSES: dict[str, tuple[str, ...]] = {
    "billing": (
        "I was charged twice this month",
        "my invoice shows {amount} more than usual",
        "the direct debit went out three days early",
        "there is a fee on my statement I don't understand",
        "my bill for {month} looks wrong",
        "the tax on my last invoice seems incorrect",
        "you billed me for a plan I never chose",
        "the price went up without any notice",
    ),
    "delivery": (
        "the parcel still hasn't arrived",
        "the courier left my package at the wrong house",
        "tracking has been stuck in {city} for days",
        "only half of my order was delivered",
        "the driver missed the delivery slot again",
        "the box arrived crushed",
        "my order was sent to my old address",
    ),
    "account": (
        "I can't update my email address",
        "my profile shows someone else's name",
        "I want to merge my two accounts",
        "my account was closed without warning",
        "I need to change the name on the account",
        "I can't find where to download my statements",
        "I'd like to add my partner as a second user",
    ),
    "technical": (
        "the app crashes when I open settings",
        'the website shows "error 500" at checkout',
        "the page won't load on my phone",
        "notifications stopped working after the update",
        "the checkout button does nothing",
        "the app and the website show different numbers",
        "the download link is broken",
    ),
    "refund": (
        "I'd like my money back",
        "I returned the item weeks ago and still have no refund",
        "please refund the {amount}",
        "the refund was only partial",
        "how long does a refund usually take",
        "your colleague promised me a refund",
        "I want the {amount} returned to my card",
    ),
    "security": (
        "I got a suspicious email pretending to be from you",
        "someone logged into my account from {country}",
        "I think my password was leaked",
        "there's a login I don't recognise",
        "I received a text asking for my PIN",
        "I keep getting login codes I didn't request",
        "somebody changed my password without me knowing",
    ),
}
TICKET_OPENERS: tuple[str, ...] = (
    "", "", "", "Hello, ", "Hi team, ", "Urgent: ", "Hi, ", "To whom it may concern, ", "Good afternoon. ",
)
TICKET_JOINERS: tuple[str, ...] = (". Also, ", ", and ", "; ", ". On top of that, ", ". Plus ", " and also ")
TICKET_CLOSERS: tuple[str, ...] = (".", ".", ".", "!", ". Please help.", ". Thanks.", "?!", ". Regards, {name}")
# fmt: on
