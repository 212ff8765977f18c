-- post_brands is keyed (brand, post_id): reading one post's brands scanned the whole table. Found when
-- threading a 1M-post store spent all its time in that lookup.
CREATE INDEX post_brands_post ON post_brands (post_id);
