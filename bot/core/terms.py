"""Words that carry no topic: question words and function words (beyond BM25's own list)."""

STOP_WORDS = frozenset(
    """a an the and or but of to in on at for from by with about as into than then
is are was were be been being do does did done have has had having it its they them their he she
his her him we us our you your i me my who whom whose what which when where why how that this these
those there here not no yes so if can could would should will shall may might must also just more
most much many any some each other such own same too very s t don now said say says tell told
number
""".split()
)
