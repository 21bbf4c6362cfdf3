"""The product's word lists, in one place: what BM25 ignores, what the highlighter ignores, and
what a chat follow-up may say besides a town. Each list is Danish grammar (function words,
question words), never a document's subject words such as "kommune", "borger" or "udvalg".
"""

from __future__ import annotations

# Our own list (bm25s ships none for Danish): articles, pronouns, prepositions, conjunctions,
# auxiliaries, question words and abbreviations of function words. Never subject words such
# as "kommune", "borger" or "udvalg", which are what people search for.
STOP_WORDS = frozenset(
    """
    ad af al alle alt anden andet andre at bl blev blevet blive bliver bør ca da de dem den
    denne deres derfor der det dette dig din dine disse dit dog du efter eks eller en end er
    et f for fordi fra fx før gennem haft ham han hans har have havde hen hende hendes her
    hos hun hvad hvem hver hvert hvilke hvilken hvilket hvis hvor hvordan hvorfor hvornår i
    ikke imod ind inden jeg jer jeres jo kan kun kunne man mange med meget mellem men mig min
    mine mit mod må ned nogen noget nogle nu når og også om op os over på samt selv sig sin
    sine sit skal skulle som så sådan til ud uden under var vel ved vi vil ville vor vores
    være været
    """.split()  # noqa: SIM905 - a word list reads best as words
)

# Function and question words of English questions ("What are the focus areas of …").
ENGLISH_FUNCTION_WORDS = frozenset(
    """a an and are do does for how in is of on the to what when which who why""".split()  # noqa: SIM905
)

# Light verbs, in their common forms: they carry a question's grammar, not what it asks about
# ("hvor mange *stod* på venteliste", "hvem *står* i spidsen").
LIGHT_VERBS = frozenset(
    """
    få får fik fået gøre gør gjorde gjort gå går gik gået komme kommer kom kommet stå står stod
    stået sidde sidder sad siddet ligge ligger lå ligget tage tager tog taget give giver gav
    givet sige siger sagde sagt ser set hedde hedder hed lave laver lavede lavet holde holder
    holdt ske sker skete sket
    """.split()  # noqa: SIM905
)

# What a question word says nothing about: the highlighter matches the remaining content words.
NOT_CONTENT = STOP_WORDS | ENGLISH_FUNCTION_WORDS

# What a chat follow-up ("og i Silkeborg?", "hvad så med København kommune?") may hold besides
# the town: function words, and the words that point back at the previous question.
FOLLOWUP_WORDS = STOP_WORDS | frozenset(
    """dér ang angår vedr gælder samme spørgsmål ser kommune kommunes kommuner""".split()  # noqa: SIM905
)

# The months, as a regular-expression alternation: dates in sentences, in answers, in lists.
MONTH_NAMES = ("januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|"
               "december")
