"""What the tests/gen/*.py checks share: reading the line-based data files."""


def words(path):
    """Yield (line number, words) for each line of PATH that is not blank
    once a '#' comment is cut off."""
    with open(path, encoding='utf-8') as f:
        for n, raw in enumerate(f, 1):
            w = raw.split('#', 1)[0].split()
            if w:
                yield n, w
