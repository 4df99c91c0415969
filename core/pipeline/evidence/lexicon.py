"""Which COCO classes an entity could be seen as, from the words of its name and expression.

Two word lists: the class's own words (an OTHER mention "Falcon 9 rocket" says nothing, "the
new iPhone" says cell phone) and makers whose name alone says what their product looks like
("Tesla", "Boeing"). Team and club names are left out on purpose: "Chicago Bears" is not a
bear. People are not here: PER mentions are matched to people by `people`.
Only OTHER mentions (products, vehicles, events) use the class words; ORG mentions use the
makers only, since an organisation's name is rarely a description of it.
"""

from __future__ import annotations

from groundlens.core.pipeline.evidence.text_match import tokens
from groundlens.core.pipeline.types import Mention

CLASS_WORDS: dict[str, tuple[str, ...]] = {
    "bicycle": ("bicycle", "bike", "bikes", "bicycles", "cycling"),
    "car": ("car", "cars", "sedan", "suv", "hatchback", "coupe", "supercar", "convertible"),
    "motorcycle": ("motorcycle", "motorbike", "motorcycles", "scooter"),
    "airplane": ("airplane", "aeroplane", "plane", "jet", "airliner", "aircraft", "jetliner"),
    "bus": ("bus", "buses", "coach"),
    "train": ("train", "trains", "locomotive", "tram", "subway"),
    "truck": ("truck", "trucks", "lorry", "pickup"),
    "boat": ("boat", "boats", "ship", "yacht", "ferry", "ferries", "sailboat", "canoe"),
    "traffic light": ("traffic light",),
    "stop sign": ("stop sign",),
    "bird": ("bird", "birds", "eagle", "owl", "parrot", "pigeon", "seagull"),
    "cat": ("cat", "cats", "kitten", "kitty"),
    "dog": ("dog", "dogs", "puppy", "pup", "doggo"),
    "horse": ("horse", "horses", "pony", "stallion"),
    "sheep": ("sheep", "lamb"),
    "cow": ("cow", "cows", "cattle", "bull"),
    "elephant": ("elephant", "elephants"),
    "bear": ("bear", "bears", "grizzly"),
    "zebra": ("zebra", "zebras"),
    "giraffe": ("giraffe", "giraffes"),
    "backpack": ("backpack", "rucksack"),
    "umbrella": ("umbrella",),
    "handbag": ("handbag", "purse"),
    "tie": ("tie", "necktie"),
    "suitcase": ("suitcase", "luggage"),
    "frisbee": ("frisbee",),
    "skis": ("skis", "ski"),
    "snowboard": ("snowboard",),
    "sports ball": ("ball", "football", "soccer ball", "basketball", "baseball", "volleyball"),
    "kite": ("kite",),
    "baseball bat": ("bat",),
    "skateboard": ("skateboard",),
    "surfboard": ("surfboard",),
    "tennis racket": ("racket", "racquet"),
    "bottle": ("bottle", "bottles", "beer", "wine"),
    "wine glass": ("wine glass",),
    "cup": ("cup", "mug", "coffee", "espresso", "latte", "cappuccino", "tea"),
    "bowl": ("bowl",),
    "banana": ("banana", "bananas"),
    "apple": ("apples",),
    "sandwich": ("sandwich", "burger", "hamburger"),
    "orange": ("oranges",),
    "pizza": ("pizza",),
    "donut": ("donut", "doughnut", "donuts"),
    "cake": ("cake", "cupcake"),
    "chair": ("chair", "chairs"),
    "couch": ("couch", "sofa"),
    "potted plant": ("plant", "houseplant"),
    "bed": ("bed",),
    "dining table": ("table",),
    "tv": ("tv", "television", "monitor"),
    "laptop": ("laptop", "notebook", "macbook", "thinkpad", "chromebook"),
    "mouse": ("mouse",),
    "remote": ("remote",),
    "keyboard": ("keyboard",),
    "cell phone": ("phone", "smartphone", "iphone", "cellphone", "mobile", "galaxy", "pixel"),
    "microwave": ("microwave",),
    "oven": ("oven",),
    "book": ("book", "books", "novel", "paperback", "hardcover"),
    "clock": ("clock",),
    "vase": ("vase",),
    "scissors": ("scissors",),
    "teddy bear": ("teddy",),
    "toothbrush": ("toothbrush",),
}

MAKERS: dict[str, tuple[str, ...]] = {
    "car": (
        "tesla",
        "toyota",
        "ford",
        "bmw",
        "mercedes",
        "audi",
        "volkswagen",
        "vw",
        "honda",
        "nissan",
        "ferrari",
        "porsche",
        "lamborghini",
        "chevrolet",
        "chevy",
        "hyundai",
        "kia",
        "volvo",
        "jaguar",
        "subaru",
        "mazda",
        "peugeot",
        "renault",
        "fiat",
        "bugatti",
        "mclaren",
        "rivian",
        "lexus",
    ),
    "airplane": (
        "boeing",
        "airbus",
        "embraer",
        "bombardier",
        "cessna",
        "lufthansa",
        "emirates",
        "ryanair",
        "easyjet",
        "qantas",
        "airlines",
        "airways",
    ),
    "motorcycle": ("harley", "ducati", "kawasaki", "yamaha", "triumph"),
    "cell phone": ("iphone", "samsung", "motorola", "nokia", "huawei", "xiaomi", "oneplus"),
    "laptop": ("macbook", "thinkpad", "chromebook"),
    "train": ("amtrak", "eurostar", "shinkansen"),
}


def _index(table: dict[str, tuple[str, ...]]) -> dict[tuple[str, ...], str]:
    return {tuple(tokens(word)): label for label, words in table.items() for word in words}


CLASS_INDEX = _index(CLASS_WORDS)
MAKER_INDEX = _index(MAKERS)


def object_classes(mention: Mention, expression: str | None = None) -> list[str]:
    """COCO classes the mention could be seen as, in the order its words name them."""
    if mention.type not in ("ORG", "OTHER"):
        return []
    index = {**MAKER_INDEX, **CLASS_INDEX} if mention.type == "OTHER" else MAKER_INDEX
    words = tokens(mention.text) + (tokens(expression) if expression and mention.type == "OTHER" else [])
    found: list[str] = []
    for size in (2, 1):
        for start in range(len(words) - size + 1):
            label = index.get(tuple(words[start : start + size]))
            if label is not None and label not in found:
                found.append(label)
    return found
