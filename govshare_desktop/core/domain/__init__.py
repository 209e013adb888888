"""Value types and rules of the domain: ID numbers, code tables, masking, periods, pinyin keys."""
