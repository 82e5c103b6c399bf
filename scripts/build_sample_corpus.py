"""Build data/sample/{train,dev,test}.conll from the hand-written sentences below.

The corpus is ours (see data/README.md): templates written for this project, filled with
names from the lists below, plus fixed sentences where the same word is an entity in one
context and not in another. A quarter of each name list never appears in training, so
dev and test measure how well a model tags names from context. Deterministic: running
it again rebuilds the same files.

    python scripts/build_sample_corpus.py [--output-dir data/sample]
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

# Slot name -> (entity type, fillers). Fillers are space-tokenised.
SLOTS = {
    "PER": ("PER", [
        "Maria Lopez", "John Carter", "Aisha Bello", "Kenji Watanabe", "Elena Petrova",
        "Tom Hughes", "Priya Nair", "Lars Eriksen", "Fatima Haddad", "Carlos Mendes",
        "Anna Schmidt", "David Okafor", "Sofia Rossi", "Michael Chen", "Olga Ivanova",
        "Peter Novak", "Grace Mwangi", "Hannah Berg", "Luis Ortega", "Yuki Tanaka",
        "Ahmed Karim", "Laura Dubois", "Samuel Adeyemi", "Ingrid Holm", "Rafael Costa",
        "Chloe Martin", "Ivan Horvat", "Nadia Rahman", "Oscar Lindqvist", "Mei Lin",
        "Smith", "Johnson", "Mueller", "Kowalski", "Garcia", "Nakamura",
    ]),
    "CLUB": ("ORG", [
        "Northfield United", "Riverside Rovers", "Real Valmonte", "Dynamo Kirov",
        "Ajax", "Celtic", "Bayern Munich", "Lakeside City", "Harbour Town", "Inter Solano",
        "Eastport Athletic", "Sporting Lima", "Westbury Wanderers", "Olympic Marais",
    ]),
    "COMPANY": ("ORG", [
        "Apple", "Microsoft", "Siemens", "Toyota", "Nokia", "Acme Corp", "Bluewave Energy",
        "Helios Pharma", "Northwind Traders", "Vertex Bank", "Orion Airlines", "Google",
        "Samsung", "Nestle", "Greenfield Foods", "Pinecrest Software", "Atlas Steel",
        "Quantum Dynamics", "Silverline Telecom", "Redstone Mining",
    ]),
    "BODY": ("ORG", [
        "the United Nations", "the European Union", "NATO", "the World Health Organization",
        "the Federal Reserve", "the Bank of England", "the Ministry of Health",
        "the Red Cross", "UNICEF", "the International Monetary Fund", "Parliament",
        "the Senate", "FIFA", "the Royal Society",
    ]),
    "UNI": ("ORG", [
        "Oxford University", "Stanford University", "the University of Toronto", "MIT",
        "Kyoto University", "the Max Planck Institute", "Harvard", "ETH Zurich",
        "the Sorbonne", "Cambridge University",
    ]),
    "CITY": ("LOC", [
        "London", "Paris", "Berlin", "Tokyo", "Nairobi", "Lima", "Madrid", "Cairo",
        "Sydney", "Toronto", "Mumbai", "Oslo", "Lagos", "Rome", "Vienna", "Seoul",
        "New York", "Los Angeles", "Rio de Janeiro", "Cape Town", "Buenos Aires",
        "Hong Kong", "Geneva", "Brussels", "Warsaw", "Istanbul", "Dublin", "Chicago",
    ]),
    "COUNTRY": ("LOC", [
        "France", "Germany", "Japan", "Kenya", "Peru", "Brazil", "Canada", "India",
        "Norway", "Nigeria", "Italy", "Spain", "Egypt", "Australia", "Mexico", "Poland",
        "South Africa", "New Zealand", "Argentina", "Sweden", "Chile", "Vietnam",
        "the United States", "Britain", "China", "Russia",
    ]),
    "PLACE": ("LOC", [
        "the Alps", "the Nile", "the Pacific", "Lake Victoria", "the Sahara",
        "the Amazon basin", "Mount Kenya", "the Baltic Sea", "the Andes", "Central Park",
        "the Rhine", "the Gobi Desert",
    ]),
    "NAT": ("MISC", [
        "French", "German", "Japanese", "Kenyan", "Peruvian", "Brazilian", "Canadian",
        "Indian", "Norwegian", "Nigerian", "Italian", "Spanish", "Egyptian", "Australian",
        "Mexican", "Polish", "American", "British", "Chinese", "Swedish", "Chilean",
    ]),
    "EVENT": ("MISC", [
        "World Cup", "Olympic Games", "Tour de France", "Champions League", "Wimbledon",
        "Super Bowl", "Nobel Prize", "Grand Prix", "European Championship", "Paris Marathon",
    ]),
    "SOFTWARE": ("MISC", ["Windows", "Linux", "Android", "Photoshop", "Excel", "Firefox"]),
    "TITLE": ("MISC", [
        "War and Peace", "Star Wars", "Harry Potter", "Don Quixote", "The Lion King",
        "Frozen", "Hamlet", "Jurassic Park",
    ]),
    "DEVICE": ("MISC", ["iPhone", "Galaxy S9", "Pixel", "Walkman", "Kindle", "ThinkPad"]),
    "PAPER": ("ORG", ["The Times", "Le Monde", "Der Spiegel", "The Guardian", "Reuters"]),
    "RELIGION": ("MISC", ["Christian", "Muslim", "Buddhist", "Hindu", "Jewish", "Catholic"]),
}

# Templates: {SLOT} is filled from SLOTS; {TYPE:words} is a fixed entity.
TEMPLATES = [
    # news
    "{PER} was elected president of {COUNTRY} on Sunday .",
    "The {NAT} government said on Tuesday it would cut taxes .",
    "Police in {CITY} arrested two men after a bank robbery .",
    "{BODY} called for a ceasefire in the region .",
    "Thousands of people marched through {CITY} to protest against the new law .",
    "The prime minister of {COUNTRY} , {PER} , met {BODY} officials in {CITY} .",
    "Floods in northern {COUNTRY} have forced 20,000 people from their homes .",
    "{PER} , a spokesman for {BODY} , declined to comment .",
    "The talks in {CITY} ended without an agreement .",
    "{NAT} troops crossed the border early on Monday , officials said .",
    "Voters in {COUNTRY} go to the polls next month .",
    "{PER} told reporters in {CITY} that the plan was dead .",
    "The summit between {COUNTRY} and {COUNTRY} will take place in {CITY} .",
    "A court in {CITY} sentenced {PER} to five years in prison .",
    "{BODY} said aid would reach {CITY} by Friday .",
    "Heavy snow closed roads across {PLACE} for a second day .",
    "The {NAT} embassy in {CITY} was closed on Wednesday .",
    "Opposition leader {PER} accused the government of lying .",
    "{RELIGION} leaders in {CITY} appealed for calm .",
    "Rescue teams searched {PLACE} for the missing climbers .",
    # sport
    "{PER} scored twice as {CLUB} beat {CLUB} 3-1 .",
    "{CLUB} drew 0-0 with {CLUB} in {CITY} on Saturday .",
    "{PER} won the {EVENT} for the third time .",
    "{NAT} striker {PER} joined {CLUB} on a four-year contract .",
    "{COUNTRY} beat {COUNTRY} 2-1 in the {EVENT} final .",
    "{PER} of {COUNTRY} finished second behind {PER} .",
    "The {EVENT} will be held in {CITY} next year .",
    "{CLUB} coach {PER} was sacked after the defeat .",
    "{PER} pulled out of the {EVENT} with a knee injury .",
    "Results of the {NAT} league matches on Sunday :",
    "{PER} ( {COUNTRY} ) beat {PER} ( {COUNTRY} ) 6-4 6-3 .",
    "{CLUB} are top of the table after ten games .",
    "{PER} set a new world record in {CITY} .",
    "Fans of {CLUB} celebrated in the streets of {CITY} .",
    "{PER} signed for {CLUB} from {CLUB} .",
    # business
    "{COMPANY} said profits rose 12 percent in the third quarter .",
    "Shares in {COMPANY} fell 3.5 percent in {CITY} on Thursday .",
    "{COMPANY} agreed to buy {COMPANY} for $ 2.4 billion .",
    "{PER} , chief executive of {COMPANY} , will step down in March .",
    "{COMPANY} plans to open a new factory in {COUNTRY} .",
    "The {NAT} central bank left interest rates unchanged .",
    "{COMPANY} cut 1,200 jobs at its plant near {CITY} .",
    "{BODY} raised its growth forecast for {COUNTRY} .",
    "Analysts expect {COMPANY} to report higher sales .",
    "{COMPANY} launched the new {DEVICE} in {CITY} on Monday .",
    "Oil prices rose on fears of supply cuts from {COUNTRY} .",
    "{PER} bought a 10 percent stake in {COMPANY} .",
    "The dollar weakened against the euro in {CITY} trading .",
    "{COMPANY} and {COMPANY} announced a joint venture in {COUNTRY} .",
    "{NAT} exports fell for the fourth month in a row .",
    # science and health
    "Researchers at {UNI} have found a new way to store energy .",
    "{PER} of {UNI} won the {EVENT} in physics .",
    "A study published by {UNI} links sleep to memory .",
    "{BODY} warned of a new flu outbreak in {COUNTRY} .",
    "Scientists found ice on the surface of the moon .",
    "{PER} and colleagues at {UNI} sequenced the genome of a rare frog .",
    "The telescope in {COUNTRY} captured images of a distant galaxy .",
    "{NAT} engineers tested a new rocket engine .",
    "A vaccine developed in {CITY} entered clinical trials .",
    "Doctors at a hospital in {CITY} performed the first such operation .",
    "{UNI} will host a conference on climate change .",
    "The expedition studied glaciers in {PLACE} .",
    "{PER} presented the results at a meeting of {BODY} .",
    "Rainfall over {PLACE} has dropped sharply since 1990 .",
    # everyday text
    "My sister lives in {CITY} and works as a nurse .",
    "We spent our holidays in {COUNTRY} last summer .",
    "{PER} is reading {TITLE} again .",
    "I met {PER} at the station this morning .",
    "Our neighbours are {NAT} and cook wonderful food .",
    "Can you send me the photos from {CITY} ?",
    "{PER} and {PER} got married in {CITY} .",
    "The kids watched {TITLE} twice over the weekend .",
    "Dinner is at seven , so please do not be late .",
    "The bus to {CITY} leaves every hour .",
    "I bought a new laptop with {SOFTWARE} installed .",
    "{PER} called to say the train was delayed .",
    "It rained all day , so we stayed at home .",
    "She learned to cook from her {NAT} grandmother .",
    "We walked along {PLACE} until sunset .",
    "My phone is an old {DEVICE} but it still works .",
    "Tickets for the concert in {CITY} sold out in an hour .",
    "{PER} wrote a long letter to the editor of {PAPER} .",
    "The cat slept on the sofa all afternoon .",
    "Please call me when you arrive .",
]

# Fixed sentences: words that are entities in one context and not in another.
FIXED = [
    "She bought a bag of apples at the market .",
    "{ORG:Apple} unveiled a new phone on Tuesday .",
    "Apple pie is my favourite dessert .",
    "Shares of {ORG:Apple} rose after the results .",
    "He ate an apple on the way to work .",
    "{PER:Michael Jordan} played for the {ORG:Chicago Bulls} .",
    "{LOC:Jordan} and {LOC:Syria} signed a water agreement .",
    "King {PER:Abdullah} of {LOC:Jordan} visited {LOC:Paris} .",
    "{PER:George Washington} was the first president of {LOC:the United States} .",
    "{LOC:Washington} is cold in January .",
    "Officials in {LOC:Washington} denied the report .",
    "{ORG:Amazon} opened a warehouse near {LOC:Madrid} .",
    "The {LOC:Amazon} flows into the {LOC:Atlantic} .",
    "The jaguar is the largest cat in {LOC:South America} .",
    "{ORG:Jaguar} recalled 5,000 cars .",
    "{PER:Harrison Ford} starred in {MISC:Star Wars} .",
    "{ORG:Ford} will build electric trucks in {LOC:Mexico} .",
    "Reading is good for children .",
    "{ORG:Reading} lost 2-0 at home .",
    "The meeting may be moved to Friday .",
    "{PER:Theresa May} spoke in {ORG:Parliament} on Monday .",
    "The walls were painted orange .",
    "{ORG:Orange} signed up a million new customers .",
    "We cooked a turkey for twenty people .",
    "{LOC:Turkey} and {LOC:Greece} agreed to hold talks .",
    "She keeps her grandmother's china in a glass cabinet .",
    "{LOC:China} reported strong growth in exports .",
    "The bush in the garden is full of birds .",
    "{PER:Bush} met {PER:Putin} in {LOC:Moscow} .",
    "He paid in euros and left a generous tip .",
    "The {ORG:European Central Bank} kept rates on hold .",
    "They sang Christmas carols in the snow .",
    "The first {MISC:Christmas} market opened in {LOC:Vienna} .",
    "A new window was fitted in the kitchen .",
    "{ORG:Microsoft} released an update to {MISC:Windows} .",
    "The python is a large snake .",
    "She writes most of her code in {MISC:Python} .",
    "The times have changed since then .",
    "{PER:Lee} wrote a column in {ORG:The Times} .",
    "He sat on the bank of the river .",
    "The bank raised its fees .",
    "{ORG:Vertex Bank} raised its fees .",
]
MOTIVATING_PAIR = ["I like eating apple !", "The {ORG:Apple} is a great company !"]

_SLOT = re.compile(r"\{([A-Z]+)(?::([^}]+))?\}")


def realise(template: str, names: dict[str, list[str]], rng: random.Random) -> list[list[str]]:
    """Fill a template; returns [token, tag] rows in IOB2."""
    rows: list[list[str]] = []
    position = 0
    for match in _SLOT.finditer(template):
        rows += [[word, "O"] for word in template[position:match.start()].split()]
        slot, fixed = match.group(1), match.group(2)
        type_, words = (slot, fixed) if fixed else (SLOTS[slot][0], rng.choice(names[slot]))
        words = words.split()
        if words[0] == "the" and len(words) > 1:  # "the" stays outside the entity (CoNLL)
            rows.append(["the" if rows else "The", "O"])
            words = words[1:]
        rows += [[word, ("B-" if i == 0 else "I-") + type_] for i, word in enumerate(words)]
        position = match.end()
    rows += [[word, "O"] for word in template[position:].split()]
    rows[0][0] = rows[0][0][0].upper() + rows[0][0][1:]
    return rows


def build(seed: int = 13) -> dict[str, list[list[list[str]]]]:
    rng = random.Random(seed)
    seen = {slot: [n for i, n in enumerate(v[1]) if i % 4 != 3] for slot, v in SLOTS.items()}
    every = {slot: list(v[1]) for slot, v in SLOTS.items()}
    splits: dict[str, list] = {"train": [], "dev": [], "test": []}
    used: set[str] = set()

    def add(split: str, template: str, names: dict) -> None:
        for _ in range(20):  # retry until the filled sentence is new
            rows = realise(template, names, rng)
            key = " ".join(word for word, _ in rows)
            if key not in used:
                used.add(key)
                splits[split].append(rows)
                return

    for template in TEMPLATES:
        for _ in range(5):
            add("train", template, seen)
        add("dev", template, every)
        add("test", template, every)
        add("test", template, every)
    fixed = FIXED[:]
    rng.shuffle(fixed)
    for i, sentence in enumerate(fixed):
        add(("train", "train", "dev", "test")[i % 4], sentence, every)
    for sentence in MOTIVATING_PAIR:
        add("test", sentence, every)
    for rows in splits.values():
        rng.shuffle(rows)
    return splits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default=Path(__file__).parent.parent / "data" / "sample")
    out = Path(parser.parse_args().output_dir)
    for split, sentences in build().items():
        text = "".join("".join(f"{w} {t}\n" for w, t in rows) + "\n" for rows in sentences)
        (out / f"{split}.conll").write_text(text, encoding="utf-8")
        print(f"{split}: {len(sentences)} sentences, {sum(map(len, sentences))} tokens")


if __name__ == "__main__":
    main()
