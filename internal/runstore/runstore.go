// Package runstore keeps what a run decided and did in the run bucket, so
// that lists which grow with the fleet never travel through the state
// machine. The objects are also the audit record of each run.
package runstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/snapper/snapper/internal/errkind"
)

// S3 lists the S3 calls the store makes.
type S3 interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ S3 = (*s3.Client)(nil)

// Store reads and writes JSON records under runs/<execution>/ in one bucket.
type Store struct {
	Client S3
	Bucket string
}

// Put writes v as JSON.
func (s Store) Put(ctx context.Context, key string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(s.Bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/json"),
	})
	if err != nil {
		return fmt.Errorf("write s3://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}

// ErrNotFound is in the chain of Get's error when there is no object at
// the key, whichever way S3 said so.
var ErrNotFound = errors.New("no such record")

// Get reads the JSON record at key into v.
func (s Store) Get(ctx context.Context, key string, v any) error {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		if s.missing(ctx, key, err) {
			return fmt.Errorf("read s3://%s/%s: %w (%w)", s.Bucket, key, ErrNotFound, err)
		}
		return fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode s3://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}

// GetETag reads the JSON record at key into v and returns its ETag, for a
// Replace that must not overwrite a newer write.
func (s Store) GetETag(ctx context.Context, key string, v any) (string, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return "", fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return "", fmt.Errorf("read s3://%s/%s: %w", s.Bucket, key, err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return "", fmt.Errorf("decode s3://%s/%s: %w", s.Bucket, key, err)
	}
	return aws.ToString(out.ETag), nil
}

// Replace writes v at key only if the object there still has etag (a
// conditional write): of several writers that read the same version, one
// wins. replaced is false when another writer got there first, or when S3
// answered a racing write with 409 (look again and retry).
func (s Store) Replace(ctx context.Context, key string, v any, etag string) (replaced bool, err error) {
	body, err := json.Marshal(v)
	if err != nil {
		return false, err
	}
	_, err = s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(s.Bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/json"),
		IfMatch:     aws.String(etag),
	})
	switch {
	case err == nil:
		return true, nil
	case errkind.Is(err, errkind.PreconditionFailed, errkind.ConditionalRequestConflict, errkind.NoSuchKey):
		return false, nil
	}
	return false, fmt.Errorf("replace s3://%s/%s: %w", s.Bucket, key, err)
}

// missing tells whether a failed read means there is no object. S3 says
// 404 NoSuchKey only to a reader that may list the bucket, else 403
// AccessDenied; a listing of the key itself then decides.
func (s Store) missing(ctx context.Context, key string, err error) bool {
	switch errkind.Code(err) {
	case errkind.NoSuchKey, errkind.NotFound:
		return true
	case errkind.AccessDenied:
		out, lerr := s.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(key), MaxKeys: aws.Int32(1)})
		return lerr == nil && (len(out.Contents) == 0 || aws.ToString(out.Contents[0].Key) != key)
	}
	return false
}

// Conditional writes that race: S3 may answer 409 ConditionalRequestConflict,
// which means "try again", not "someone else was first" (that is 412).
const (
	createAttempts = 6
	createBackoff  = 50 * time.Millisecond
)

// Create writes v at key only if nothing is there yet (a conditional
// write); created is false when another writer got there first.
func (s Store) Create(ctx context.Context, key string, v any) (created bool, err error) {
	body, err := json.Marshal(v)
	if err != nil {
		return false, err
	}
	for attempt := 1; ; attempt++ {
		_, err = s.Client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:      aws.String(s.Bucket),
			Key:         aws.String(key),
			Body:        bytes.NewReader(body),
			ContentType: aws.String("application/json"),
			IfNoneMatch: aws.String("*"),
		})
		switch code := errkind.Code(err); {
		case err == nil:
			return true, nil
		case code == errkind.PreconditionFailed:
			return false, nil
		case code != errkind.ConditionalRequestConflict || attempt == createAttempts:
			return false, fmt.Errorf("create s3://%s/%s: %w", s.Bucket, key, err)
		}
		// Full jitter, so that the racing writers do not meet again.
		wait := time.Duration(rand.Int64N(int64(createBackoff << attempt)))
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("create s3://%s/%s: %w (after %w)", s.Bucket, key, ctx.Err(), err)
		case <-time.After(wait):
		}
	}
}

// List returns the keys under prefix, in S3's (lexical) order.
func (s Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	pages := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.Bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}
