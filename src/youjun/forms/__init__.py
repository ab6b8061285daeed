"""Data-defined forms (申报表, 推荐表): definition files, pre-filling from the data, validation, Word/Excel output."""
